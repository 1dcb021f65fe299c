/**
 * The virtual card at the APDU level, in process: files and SELECT forms, READ BINARY in 181-byte answers, every
 * status word of docs/fineid-cards.md, PIN counting, blocking and PUK unblocking, GET DATA status, reset and
 * application switches forgetting verification, the hash consumed by PSO:CDS, T=0 61xx/6Cxx, fault injection and
 * the state file.
 * @module
 */

import { fromHex, toHex } from "../lib/apdu.ts";
import { CardRemovedError } from "../lib/errors.ts";
import { openVirtualTransport, VirtualCard, type VirtualCardOptions } from "../lib/virtual-card/mod.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";

const AID = "A000000063504B43532D3135";
const SELECT_AID = `00A4040C0C${AID}`;

interface Answer {
  data: string;
  sw: string;
}

/** Sends hex APDUs; returns the last answer as hex data and status word. */
async function send(card: VirtualCard, ...apdus: string[]): Promise<Answer> {
  let answer: Answer = { data: "", sw: "" };
  for (const apdu of apdus) {
    const raw = await card.transmit(fromHex(apdu));
    answer = { data: toHex(raw.subarray(0, raw.length - 2)), sw: toHex(raw.subarray(raw.length - 2)) };
  }
  return answer;
}

function ascii(text: string, padTo = 0): string {
  const bytes = new Uint8Array(Math.max(padTo, text.length));
  bytes.set(new TextEncoder().encode(text));
  return toHex(bytes);
}

/** VERIFY with a citizen-card PIN padded to 12 bytes. */
function verify(reference: string, pin: string): string {
  return `002000${reference}0C${ascii(pin, 12)}`;
}

function pemDer(path: string): string {
  const text = Deno.readTextFileSync(new URL(`../fixtures/pki/${path}`, import.meta.url));
  const b64 = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return toHex(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}

async function card(options: Partial<VirtualCardOptions> = {}): Promise<VirtualCard> {
  return await VirtualCard.create({ profile: "v4", ...options });
}

/** Reads the current EF as a reader following the FCP size and advancing by what came back. */
async function readFile(c: VirtualCard, size: number): Promise<{ content: string; chunks: number[] }> {
  let content = "";
  const chunks: number[] = [];
  for (let offset = 0; offset < size;) {
    const { data, sw } = await send(c, `00B0${offset.toString(16).padStart(4, "0")}00`);
    assertEquals(sw, "9000");
    content += data;
    chunks.push(data.length / 2);
    offset += data.length / 2;
  }
  return { content, chunks };
}

Deno.test("SELECT by AID, by path from the MF with FCP, and READ BINARY give the certificate in 181-byte answers", async () => {
  const c = await card();
  assertEquals(await send(c, SELECT_AID), { data: "", sw: "9000" });
  const fcp = await send(c, "00A40804024331" + "00");
  assertEquals(fcp.sw, "9000");
  const der = pemDer("v4-auth.pem");
  const size = der.length / 2;
  const sizeHex = size.toString(16).padStart(4, "0").toUpperCase();
  assert(fcp.data.startsWith("62") && fcp.data.includes(`8002${sizeHex}`) && fcp.data.includes(`8102${sizeHex}`));
  const { content, chunks } = await readFile(c, size);
  assertEquals(content, der);
  assert(chunks.slice(0, -1).every((n) => n === 181), `chunks ${chunks}`);
  const sign = await send(c, "00A408040450164332" + "00");
  assertEquals(sign.sw, "9000");
  assertEquals((await readFile(c, pemDer("v4-sign.pem").length / 2)).content, pemDer("v4-sign.pem"));
});

Deno.test("SELECT relative to the application (P1=02), by FID (P1=00), path from the current DF; P2=0C gives no data", async () => {
  const c = await card({ profile: "v3" });
  await send(c, SELECT_AID);
  assertEquals(await send(c, "00A4020C024331"), { data: "", sw: "9000" });
  assertEquals((await send(c, "00B0000010")).data, pemDer("v3-auth.pem").slice(0, 32));
  assertEquals((await send(c, "00A4000C023F00")).sw, "9000");
  assertEquals((await send(c, "00A4000C025016")).sw, "9000");
  assertEquals((await send(c, "00A4000C024335")).sw, "9000");
  assertEquals((await send(c, "00B0000004")).data, pemDer("v3-sign.pem").slice(0, 8));
  assertEquals((await send(c, "00A408040450164332" + "00")).sw, "6A82", "v3 has its signature certificate at 4335");
  await send(c, "00A4000C023F00");
  assertEquals((await send(c, "00A4090C0450154402")).sw, "9000");
});

Deno.test("PKCS#15: EF.DIR names the application, ODF points at AODF/PrKDF/CDF, TokenInfo carries the serial", async () => {
  const c = await card();
  const dir = await send(c, "00A40804022F00" + "00");
  assertEquals(dir.sw, "9000");
  const record = await send(c, "00B0000000");
  assert(record.data.startsWith("61") && record.data.includes(`4F0C${AID}`) && record.data.includes("51043F005015"));
  assertEquals((await send(c, "00A408040450155031" + "00")).sw, "9000");
  const odf = (await send(c, "00B0000000")).data;
  assert(odf.includes("A0") && odf.includes("3F0050154402") && odf.includes("3F0050154403"), odf);
  assertEquals((await send(c, SELECT_AID, "00A4020C025032")).sw, "9000");
  const tokenInfo = (await send(c, "00B0000000")).data;
  assert(tokenInfo.includes(ascii("999000401")), tokenInfo);
});

Deno.test("every status word of the doc: 6A82 6982 6A86 6D00 6700 6A80 6A88 63Cx 6983 (and 6E00, 6985, 6B00)", async () => {
  const c = await card();
  assertEquals((await send(c, "00A4040C07A0000000791000")).sw, "6A82", "unknown AID");
  assertEquals((await send(c, "00A40804024399" + "00")).sw, "6A82", "unknown file");
  await send(c, SELECT_AID);
  assertEquals((await send(c, "002241B606800154840102", "002A90A03290" + "30" + "11".repeat(48))).sw, "9000");
  assertEquals((await send(c, "002A9E9A00")).sw, "6982", "sign without VERIFY");
  assertEquals((await send(c, "00A4070C024331")).sw, "6A86", "unknown SELECT P1");
  assertEquals((await send(c, "00A40808024331")).sw, "6A86", "unknown SELECT P2");
  assertEquals((await send(c, "00EE000000")).sw, "6D00", "unknown instruction");
  assertEquals((await send(c, "80A4040C0CA000000063504B43532D3135")).sw, "6E00", "unknown class");
  assertEquals((await send(c, "0020001104" + ascii("1234"))).sw, "6700", "VERIFY not padded to 12 bytes");
  assertEquals((await send(c, "002000110C" + ascii("12a4", 12))).sw, "6A80", "PIN with a non-digit");
  assertEquals((await send(c, "002000110C" + ascii("1234") + "0000310000000000")).sw, "6A80", "bad padding");
  assertEquals((await send(c, verify("03", "1234"))).sw, "6A88", "PIN reference the card does not have");
  assertEquals((await send(c, "002241B606800154840109")).sw, "6A88", "key reference the card does not have");
  assertEquals((await send(c, "002241B606800142840102")).sw, "6A80", "RSA algorithm for an EC key");
  assertEquals((await send(await card(), "002A9E9A00")).sw, "6985", "PSO:CDS without MSE:SET");
  assertEquals((await send(c, verify("11", "0000"))).sw, "63C4");
  assertEquals((await send(c, "00A40804024331" + "00", "00B0100000")).sw, "6B00", "offset past the end");
  const blocked = await card({ blocked: ["auth"] });
  assertEquals((await send(blocked, verify("11", "1234"))).sw, "6983", "blocked PIN");
  assertEquals((await send(blocked, "00200011")).sw, "6983", "status of a blocked PIN");
});

Deno.test("a wrong PIN counts down 63C4..63C0 to blocked (6983); the PUK unblocks it with a new PIN", async () => {
  const c = await card();
  for (const left of [4, 3, 2, 1, 0]) assertEquals((await send(c, verify("82", "000000"))).sw, `63C${left}`);
  assertEquals((await send(c, verify("82", "123456"))).sw, "6983", "even the right PIN: blocked");
  assertEquals((await send(c, "00200082")).sw, "6983");
  const status = await send(c, "00CB00FF05A00383018200");
  assert(status.data.includes("DF210400"), status.data);
  assertEquals((await send(c, `002C008218${ascii("12345678", 12)}${ascii("654321", 12)}`)).sw, "9000");
  assertEquals((await send(c, verify("82", "123456"))).sw, "63C4", "the old PIN is gone");
  assertEquals((await send(c, verify("82", "654321"))).sw, "9000", "the new PIN works");
});

Deno.test("RESET RETRY COUNTER: a wrong PUK counts, the right PUK alone unblocks and keeps the PIN", async () => {
  const c = await card({ blocked: ["auth"] });
  assertEquals((await send(c, `002C00110C${ascii("11111111", 12)}`)).sw, "63C4", "wrong PUK");
  assertEquals((await send(c, `002C00110C${ascii("12345678", 12)}`)).sw, "9000");
  assertEquals((await send(c, "00200011")).sw, "63C5");
  assertEquals((await send(c, verify("11", "1234"))).sw, "9000");
  assertEquals((await send(c, "00200011")).sw, "9000", "empty VERIFY: already verified");
  const status = await send(c, "00CB00FF05A00383018300");
  assert(status.data.includes("DF210405"), "PUK tries back to 5 after the right PUK");
});

Deno.test("PUK unblock with PUK + new PIN, as the lead asked: 00 2C 00 <ref> with both", async () => {
  const c = await card({ triesLeft: { PIN1: 0 } });
  assertEquals((await send(c, `002C001118${ascii("12345678", 12)}${ascii("9876", 12)}`)).sw, "9000");
  assertEquals((await send(c, verify("11", "9876"))).sw, "9000");
});

Deno.test("CHANGE REFERENCE DATA changes the PIN; GET DATA reports tries in DF21 and DF2F", async () => {
  const c = await card();
  const before = await send(c, "00CB00FF05A00383011100");
  assertEquals(
    before.data,
    "A0238301118C04F00000009C04F0000000DF210405FFA503DF2702FFFFDF28010CDF2F0101",
  );
  assertEquals((await send(c, `0024001118${ascii("1111", 12)}${ascii("4321", 12)}`)).sw, "63C4", "wrong old PIN");
  assertEquals((await send(c, `0024001118${ascii("1234", 12)}${ascii("4321", 12)}`)).sw, "9000");
  assertEquals((await send(c, verify("11", "1234"))).sw, "63C4");
  assertEquals((await send(c, verify("11", "4321"))).sw, "9000");
  assertEquals((await send(c, `0024001118${ascii("4321", 12)}${ascii("12", 12)}`)).sw, "6A80", "too short");
});

Deno.test("reset forgets verification; the empty VERIFY tells 63Cx / 9000 / 6983", async () => {
  const c = await card();
  await send(c, SELECT_AID);
  assertEquals((await send(c, verify("11", "1234"))).sw, "9000");
  assertEquals((await send(c, "00200011")).sw, "9000");
  c.reset();
  assertEquals((await send(c, "00200011")).sw, "63C5");
  await send(c, SELECT_AID);
  assertEquals((await send(c, "002241B606800154840101", "002A90A03290" + "30" + "22".repeat(48))).sw, "9000");
  assertEquals((await send(c, "002A9E9A00")).sw, "6982");
});

Deno.test("selecting another application forgets verification (organisation card: E.SIGN and PKCS#15)", async () => {
  const c = await card({ profile: "org" });
  const esign = toHex(new TextEncoder().encode("E.SIGN"));
  assertEquals((await send(c, `00A4040C06${esign}`)).sw, "9000");
  assertEquals((await send(c, "0020000406" + ascii("123456"))).sw, "9000");
  assertEquals((await send(c, "00200004")).sw, "9000");
  assertEquals((await send(c, `00A4040C06${esign}`)).sw, "9000", "same application again");
  assertEquals((await send(c, "00200004")).sw, "9000", "re-selecting the same application keeps it");
  assertEquals((await send(c, SELECT_AID)).sw, "9000");
  assertEquals((await send(c, "00200004")).sw, "63C5", "another application: forgotten");
});

Deno.test("the loaded hash is consumed by PSO:CDS: a second signature needs a new PSO:HASH", async () => {
  const c = await card();
  await send(c, SELECT_AID, verify("82", "123456"), "002241B606800154840102");
  assertEquals((await send(c, "002A90A03290" + "30" + "33".repeat(48))).sw, "9000");
  const first = await send(c, "002A9E9A00");
  assertEquals(first.sw, "9000");
  assertEquals(first.data.length, 192, "96 bytes r||s");
  assertEquals((await send(c, "002A9E9A00")).sw, "6985");
  assertEquals((await send(c, "002A90A03290" + "30" + "44".repeat(48), "002A9E9A00")).sw, "9000");
});

Deno.test("T=0 behaviour: 61xx and GET RESPONSE without Le, 6Cxx for a short Le", async () => {
  const c = await card();
  const status = await send(c, "00CB00FF05A003830111");
  assertEquals(status.sw, "6125");
  const fetched = await send(c, "00C0000025");
  assertEquals(fetched.sw, "9000");
  assertEquals(fetched.data.length, 0x25 * 2);
  assertEquals((await send(c, "00C0000025")).sw, "6985", "nothing left to get");
  assertEquals((await send(c, "00CB00FF05A00383011110")).sw, "6C25");
  assertEquals((await send(c, "00A40804024331")).sw.slice(0, 2), "61", "SELECT FCP without Le");
});

Deno.test("organisation profile: VERIFY unpadded, probe on 11 gives 6A88, key 82 only in DF.ESIGN, inline digest", async () => {
  const c = await card({ profile: "org" });
  assertEquals((await send(c, "00200011")).sw, "6A88", "not a citizen card");
  assertEquals((await send(c, "0020000304" + ascii("1234"))).sw, "9000");
  assertEquals((await send(c, "002000030C" + ascii("1234", 12))).sw, "6700", "padded PIN on IAS-ECC");
  assertEquals((await send(c, "002241B606800142840182")).sw, "6A88", "key 82 outside DF.ESIGN");
  const esign = toHex(new TextEncoder().encode("E.SIGN"));
  await send(c, `00A4040C06${esign}`);
  assertEquals((await send(c, "002241B606800142840102")).sw, "6A88", "02 is not the qualified key");
  assertEquals((await send(c, "002241B606800142840182")).sw, "9000");
  assertEquals((await send(c, "002A90A02290" + "20" + "55".repeat(32))).sw, "6A86", "no PSO:HASH");
  assertEquals((await send(c, "002A9E9A20" + "55".repeat(32) + "00")).sw, "6982");
  assertEquals((await send(c, "0020000406" + ascii("123456"))).sw, "9000");
  const signed = await send(c, "002A9E9A20" + "55".repeat(32) + "00");
  assertEquals(signed.sw, "9000");
  assertEquals(signed.data.length, 512);
  assertEquals((await send(c, "00A408040450164332" + "00")).sw, "9000");
  assertEquals((await send(c, "00B0000004")).data, pemDer("org-sign.pem").slice(0, 8));
});

Deno.test("failAfter pulls the card mid-sequence: later APDUs throw CardRemovedError", async () => {
  const c = await card({ failAfter: 3 });
  await send(c, SELECT_AID, "00A40804024331" + "00", "00B0000000");
  assertEquals(c.apduCount, 3);
  await assertRejects(() => send(c, "00B000B500"), CardRemovedError);
  await assertRejects(() => send(c, SELECT_AID), CardRemovedError);
  assert(c.removed);
  const transport = await openVirtualTransport({ profile: "v3", failAfter: 1 });
  await transport.transmit(fromHex(SELECT_AID));
  await assertRejects(() => transport.transmit(fromHex(SELECT_AID)), CardRemovedError);
});

Deno.test("delayMs makes a slow card", async () => {
  const c = await card({ delayMs: 40 });
  const started = performance.now();
  await send(c, SELECT_AID, SELECT_AID);
  assert(performance.now() - started >= 75);
});

Deno.test("the state file keeps try counters and PIN changes across cards, written atomically", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-vc-state-" });
  try {
    const statePath = `${dir}/card.json`;
    const first = await card({ statePath });
    assertEquals((await send(first, verify("11", "9999"))).sw, "63C4");
    assertEquals((await send(first, `0024008218${ascii("123456", 12)}${ascii("111111", 12)}`)).sw, "9000");
    const second = await card({ statePath });
    assertEquals((await send(second, "00200011")).sw, "63C4", "the wrong try survived");
    assertEquals((await send(second, verify("82", "111111"))).sw, "9000", "the new PIN2 survived");
    const text = await Deno.readTextFile(statePath);
    assert(!text.includes("111111") && !text.includes("1234"), "no PIN in clear in the state file");
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["card.json"], "no temporary files left");
    await assertRejects(() => card({ profile: "org", statePath }), Error, /not a state file of a virtual org/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the transport is a Transport: reader 'virtual', the profile's ATR, close resets the card", async () => {
  const transport = await openVirtualTransport({ profile: "v4" });
  assertEquals(transport.readerName, "virtual");
  assertEquals(toHex(transport.atr), "3B7F96000080" + "31B865B085" + "0500111224" + "60829000");
  await transport.transmit(fromHex(verify("11", "1234")));
  await transport.close();
  await assertRejects(() => transport.transmit(fromHex(SELECT_AID)), CardRemovedError);
  assertEquals((await send(transport.card, "00200011")).sw, "63C5");
});
