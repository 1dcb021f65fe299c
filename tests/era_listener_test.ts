/**
 * The erasmartcard listener over real TLS on loopback, with the in-process virtual cards: Web eID tokens from the
 * v3 (RSA, PS256) and v4 (EC, ES384) cards verified with openssl over signed data rebuilt independently, the
 * certificates and status routes, XML answers, SCS sign on this port, and the same Origin/Host policy as SCS.
 * @module
 */

import { openCard } from "../lib/open.ts";
import { signWithCard } from "../lib/sign/mod.ts";
import { reopeningCardAccess } from "../lib/serve/card-access.ts";
import { createEraApp } from "../lib/serve/era.ts";
import type { PinPrompt } from "../lib/serve/pin-dialog.ts";
import { OriginPolicy } from "../lib/serve/policy.ts";
import { CardQueue } from "../lib/serve/queue.ts";
import { type Listener, type ServeContext, startListener } from "../lib/serve/server.ts";
import { ensureTlsIdentity } from "../lib/serve/tls.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";

const ORIGIN = "https://rp.example.test";
const workDir = await Deno.makeTempDir({ prefix: "kortti-era-" });
const tls = await ensureTlsIdentity(`${workDir}/data`);
const client = Deno.createHttpClient({ caCerts: [tls.caPem] });
await Deno.writeTextFile(`${workDir}/ca.pem`, tls.caPem);

/** A running erasmartcard listener on a virtual card, and the PIN prompts it showed. */
interface EraService {
  base: string;
  port: number;
  prompts: PinPrompt[];
  /** Replaces the PIN dialog (e.g. to hold it open). */
  setDialog(dialog: (prompt: PinPrompt) => Promise<Uint8Array>): void;
  stop(): Promise<void>;
}

async function startEra(profile: "v3" | "v4", port: number): Promise<EraService> {
  const prompts: PinPrompt[] = [];
  let dialog: (prompt: PinPrompt) => Promise<Uint8Array> = (prompt) =>
    Promise.resolve(new TextEncoder().encode(prompt.pin === "PIN1" ? "1234" : "123456"));
  const ctx: ServeContext = {
    policy: new OriginPolicy({ origins: [ORIGIN] }),
    queue: new CardQueue(4),
    pinDialog: (prompt) => {
      prompts.push(prompt);
      return dialog(prompt);
    },
    cards: reopeningCardAccess(() => openCard({ virtualCard: profile })),
    sign: (o) =>
      signWithCard({ card: o.card, key: o.key, format: o.format, hash: o.hash, digest: o.digest, pin: o.pin }),
    dataDir: `${workDir}/data`,
    tls,
    bodyLimit: 2 * 1024 * 1024,
    log: () => {},
  };
  const listener: Listener = await startListener(ctx, {
    port,
    app: createEraApp(ctx),
    name: "erasmartcard",
    hostnames: ["127.0.0.1"],
  });
  return {
    base: `https://localhost:${port}`,
    port,
    prompts,
    setDialog: (d) => dialog = d,
    stop: async () => {
      await listener.shutdown();
      await ctx.cards.close();
    },
  };
}

async function call(
  service: EraService,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  return await fetch(`${service.base}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      Origin: ORIGIN,
      ...(init.body === undefined ? {} : { "Content-Type": "application/json" }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
    client,
  });
}

async function run(command: string, args: string[], stdin?: Uint8Array): Promise<{ ok: boolean; out: string }> {
  const child = new Deno.Command(command, { args, stdin: stdin ? "piped" : "null", stdout: "piped", stderr: "piped" })
    .spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const output = await child.output();
  const decoder = new TextDecoder();
  return { ok: output.success, out: decoder.decode(output.stdout) + decoder.decode(output.stderr) };
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function randomChallenge(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
}

/** ECDSA r‖s as a DER SEQUENCE of two INTEGERs, for openssl (written here, independently of lib/sign). */
function ecdsaRawToDerForTest(raw: Uint8Array): Uint8Array {
  const integer = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body = trimmed[0] & 0x80 ? Uint8Array.of(0, ...trimmed) : trimmed;
    return Uint8Array.of(0x02, body.length, ...body);
  };
  const half = raw.length / 2;
  const content = Uint8Array.of(...integer(raw.subarray(0, half)), ...integer(raw.subarray(half)));
  const length = content.length < 0x80 ? [content.length] : [0x81, content.length];
  return Uint8Array.of(0x30, ...length, ...content);
}

/**
 * Checks a Web eID token as a relying party would, with openssl only: the public key from the token's certificate,
 * the signed data rebuilt as openssl-hash(origin) ‖ openssl-hash(challenge), then openssl's signature check.
 */
async function verifyTokenWithOpenssl(
  token: Record<string, string>,
  origin: string,
  challenge: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: workDir, prefix: "token-" });
  const hash = { ES256: "sha256", ES384: "sha384", ES512: "sha512", PS256: "sha256", RS256: "sha256" }[
    token.algorithm
  ];
  assert(hash, `unexpected algorithm ${token.algorithm}`);
  await Deno.writeFile(`${dir}/cert.der`, fromBase64(token.unverifiedCertificate));
  const pub = await run("openssl", ["x509", "-inform", "DER", "-in", `${dir}/cert.der`, "-pubkey", "-noout"]);
  assert(pub.ok, pub.out);
  await Deno.writeTextFile(`${dir}/pub.pem`, pub.out);
  const digestOf = async (text: string) => {
    const child = new Deno.Command("openssl", {
      args: ["dgst", `-${hash}`, "-binary"],
      stdin: "piped",
      stdout: "piped",
    })
      .spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(text));
    await writer.close();
    return (await child.output()).stdout;
  };
  const data = Uint8Array.of(...await digestOf(origin), ...await digestOf(challenge));
  await Deno.writeFile(`${dir}/data.bin`, data);
  const signature = fromBase64(token.signature);
  const args = ["dgst", `-${hash}`, "-verify", `${dir}/pub.pem`, "-signature", `${dir}/sig.bin`];
  if (token.algorithm.startsWith("ES")) {
    await Deno.writeFile(`${dir}/sig.bin`, ecdsaRawToDerForTest(signature));
  } else {
    await Deno.writeFile(`${dir}/sig.bin`, signature);
    if (token.algorithm === "PS256") {
      args.push("-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32", "-sigopt", "rsa_mgf1_md:sha256");
    }
  }
  args.push(`${dir}/data.bin`);
  return (await run("openssl", args)).out.trim();
}

const v4 = await startEra("v4", 44304);
const v3 = await startEra("v3", 44314);

Deno.test("a Web eID token from the v4 card (EC P-384) is ES384 and verifies with openssl", async () => {
  const challenge = randomChallenge();
  const answer = await (await call(v4, "/authenticate", { body: { challenge } })).json();
  assertEquals([answer.status, answer.reasonCode], ["ok", 200], JSON.stringify(answer));
  const token = answer.token;
  assertEquals(token.format, "web-eid:1.0");
  assertEquals(token.algorithm, "ES384");
  assertMatch(token.appVersion, /^https:\/\/.+\/\d+\.\d+\.\d+$/);
  assertEquals(fromBase64(token.signature).length, 96); // raw r‖s, as JWS
  assertEquals(await verifyTokenWithOpenssl(token, ORIGIN, challenge), "Verified OK");
  // Bound to the origin and the challenge: another origin or challenge does not verify.
  assert((await verifyTokenWithOpenssl(token, "https://evil.example.test", challenge)) !== "Verified OK");
  assert((await verifyTokenWithOpenssl(token, ORIGIN, randomChallenge())) !== "Verified OK");
});

Deno.test("a Web eID token from the v3 card (RSA) is PS256 and verifies with openssl", async () => {
  const challenge = randomChallenge();
  const answer = await (await call(v3, "/authenticate", { body: { challenge } })).json();
  assertEquals(answer.status, "ok", JSON.stringify(answer));
  assertEquals(answer.token.algorithm, "PS256");
  assertEquals(fromBase64(answer.token.signature).length, 256);
  assertEquals(await verifyTokenWithOpenssl(answer.token, ORIGIN, challenge), "Verified OK");
});

Deno.test("the token's certificate is the card's authentication certificate, and the dialog names origin and PIN1", async () => {
  v4.prompts.length = 0;
  const answer = await (await call(v4, "/authenticate", { body: { challenge: randomChallenge() } })).json();
  const listed = await (await call(v4, "/certificates")).json();
  const auth = listed.certificates.find((c: { key: string }) => c.key === "auth");
  const pemBody = auth.pem.replace(/-----[A-Z ]+-----|\s/g, "");
  assertEquals(answer.token.unverifiedCertificate, pemBody);
  assertEquals(v4.prompts.length, 1);
  const [prompt] = v4.prompts;
  assertEquals([prompt.origin, prompt.key, prompt.pin, prompt.purpose], [ORIGIN, "auth", "PIN1", "authenticate"]);
});

Deno.test("bad challenges and bodies are 400 without asking for a PIN", async () => {
  v4.prompts.length = 0;
  const short = btoa("x".repeat(16));
  for (
    const body of [
      { challenge: short },
      { challenge: "not base64 at all!" + "A".repeat(40) },
      {},
      { challenge: 42 },
      { challenge: randomChallenge(), extra: 1 },
      "[1,2]",
      "{not json",
    ]
  ) {
    const answer = await (await call(v4, "/authenticate", { body })).json();
    assertEquals([answer.status, answer.reasonCode], ["failed", 400], JSON.stringify(body));
  }
  assertEquals(v4.prompts.length, 0);
});

Deno.test("GET /certificates lists both certificates as list-certs --json, without a PIN", async () => {
  v4.prompts.length = 0;
  const response = await call(v4, "/certificates");
  assertMatch(response.headers.get("content-type") ?? "", /^application\/json/);
  assertEquals(response.headers.get("access-control-allow-origin"), ORIGIN);
  const answer = await response.json();
  assertEquals(answer.status, "ok");
  assertEquals(answer.card.family, "fineid-v4");
  assertEquals(answer.certificates.map((c: { key: string }) => c.key).sort(), ["auth", "sign"]);
  for (const certificate of answer.certificates) {
    for (const field of ["keyReference", "subject", "issuer", "serialNumber", "notBefore", "notAfter", "sha256"]) {
      assert(typeof certificate[field] === "string", field);
    }
    assertEquals(certificate.keyAlgorithm, "EC P-384");
    assertEquals(typeof certificate.pin.triesLeft, "number");
    const der = fromBase64(certificate.pem.replace(/-----[A-Z ]+-----|\s/g, ""));
    const sha256 = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", der)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assertEquals(certificate.sha256, sha256);
  }
  assertEquals(v4.prompts.length, 0);
});

Deno.test("XML answers with Accept: application/xml or ?type=xml, JSON by default", async () => {
  const parse = async (text: string) => {
    const result = await run("python3", [
      "-c",
      "import sys,json,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.buffer.read()); " +
      "print(json.dumps({'tag':r.tag,'status':r.findtext('status'),'reasonText':r.findtext('reasonText')," +
      "'certs':[c.findtext('key') for c in r.iter('certificate')],'version':r.findtext('version')}))",
    ], new TextEncoder().encode(text));
    assert(result.ok, result.out);
    return JSON.parse(result.out);
  };
  const byAccept = await call(v4, "/certificates", { headers: { Accept: "application/xml" } });
  assertMatch(byAccept.headers.get("content-type") ?? "", /^application\/xml/);
  assertMatch(byAccept.headers.get("vary") ?? "", /Accept/);
  const certs = await parse(await byAccept.text());
  assertEquals([certs.tag, certs.status, certs.certs.sort()], ["result", "ok", ["auth", "sign"]]);

  const version = await call(v4, "/version?type=xml");
  assertMatch(version.headers.get("content-type") ?? "", /^application\/xml/);
  assertEquals((await parse(await version.text())).version, "1.3");

  const status = await call(v4, "/status", { headers: { Accept: "application/xml" } });
  assertEquals((await parse(await status.text())).status, "ok");

  // A hostile field name comes back in reasonText, escaped: the document still parses to the same text.
  const hostile = await call(v4, "/authenticate?type=xml", {
    body: JSON.stringify({ challenge: randomChallenge(), "</reasonText><x>&": 1 }),
  });
  const text = await hostile.text();
  assert(!text.includes("<x>"), text);
  assertEquals((await parse(text)).reasonText, "unknown field '</reasonText><x>&'");

  // The guard's refusals too (here: a foreign origin).
  const refused = await fetch(`${v4.base}/status?type=xml`, {
    headers: { Origin: "https://evil.example.test" },
    client,
  });
  assertMatch(refused.headers.get("content-type") ?? "", /^application\/xml/);
  assertEquals((await parse(await refused.text())).status, "failed");

  const json = await call(v4, "/version", { headers: { Accept: "application/json" } });
  assertMatch(json.headers.get("content-type") ?? "", /^application\/json/);
  assertEquals((await json.json()).version, "1.3");
  const plain = await call(v4, "/status");
  assertMatch(plain.headers.get("content-type") ?? "", /^application\/json/);
  await plain.body?.cancel();
});

Deno.test("GET /status: the card, the API version, and busy at once while a PIN dialog is open", async () => {
  const status = await (await call(v4, "/status")).json();
  assertEquals([status.status, status.api, status.cardPresent, status.busy], ["ok", "1.0", true, false]);
  assertEquals(status.card.family, "fineid-v4");

  let release!: () => void;
  const held = new Promise<void>((resolve) => release = resolve);
  let asked!: () => void;
  const dialogOpen = new Promise<void>((resolve) => asked = resolve);
  v4.setDialog(async () => {
    asked();
    await held;
    return new TextEncoder().encode("1234");
  });
  try {
    const pending = call(v4, "/authenticate", { body: { challenge: randomChallenge() } });
    await dialogOpen;
    const started = performance.now();
    const busy = await (await call(v4, "/status")).json();
    assert(performance.now() - started < 1000, "status waited for the dialog");
    assertEquals([busy.cardPresent, busy.busy], [true, true]);
    release();
    assertEquals((await (await pending).json()).status, "ok");
  } finally {
    release();
    v4.setDialog((prompt) => Promise.resolve(new TextEncoder().encode(prompt.pin === "PIN1" ? "1234" : "123456")));
  }
});

Deno.test("GET /status without a card (PC/SC with no card or no service): cardPresent false, status ok", async () => {
  // No virtual card: PC/SC, where no card is in any reader of this test stack (or no pcscd runs at all).
  const cards = reopeningCardAccess(() => openCard({}));
  const ctx = { queue: new CardQueue(1), cards, log: () => {} } as unknown as ServeContext;
  try {
    const answer = await (await createEraApp(ctx).fetch(new Request("https://localhost:44304/status"))).json();
    assertEquals([answer.status, answer.cardPresent, answer.card, answer.busy], ["ok", false, null, false]);
    assert(answer.reasonText.length > 0);
  } finally {
    await cards.close();
  }
});

Deno.test("POST /sign on the erasmartcard port is the SCS operation", async () => {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", new TextEncoder().encode("hello")));
  const answer = await (await call(v4, "/sign", {
    body: {
      version: "1.1",
      selector: { keyusages: ["nonrepudiation"] },
      content: btoa(String.fromCharCode(...digest)),
      contentType: "digest",
      hashAlgorithm: "SHA384",
      signatureType: "signature",
    },
  })).json();
  assertEquals([answer.status, answer.reasonCode, answer.signatureAlgorithm], ["ok", 200, "SHA384withECDSA"]);
  assert(answer.chain.length >= 1);
});

Deno.test("the same Origin and Host policy as SCS", async () => {
  v4.prompts.length = 0;
  const foreign = await fetch(`${v4.base}/authenticate`, {
    method: "POST",
    headers: { Origin: "https://evil.example.test", "Content-Type": "application/json" },
    body: JSON.stringify({ challenge: randomChallenge() }),
    client,
  });
  assertEquals(foreign.headers.get("access-control-allow-origin"), null);
  assertEquals((await foreign.json()).reasonCode, 403);
  const noOrigin = await fetch(`${v4.base}/certificates`, { client });
  assertEquals((await noOrigin.json()).reasonCode, 403);
  assertEquals(v4.prompts.length, 0);

  const curl = async (host: string) => {
    const result = await run("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--cacert",
      `${workDir}/ca.pem`,
      "--resolve",
      `erasmartcard.ehoito.fi:${v4.port}:127.0.0.1`,
      "-H",
      `Origin: ${ORIGIN}`,
      ...(host ? ["-H", `Host: ${host}`] : []),
      `https://erasmartcard.ehoito.fi:${v4.port}/version`,
    ]);
    return result.out;
  };
  assertEquals(await curl(""), "200"); // the Atostek host name, verified against our CA
  assertEquals(await curl(`evil.example.test:${v4.port}`), "421"); // DNS rebinding
  assertEquals(await curl(`localhost:${v4.port + 1}`), "421");

  const preflight = await fetch(`${v4.base}/authenticate`, {
    method: "OPTIONS",
    headers: {
      Origin: ORIGIN,
      "Access-Control-Request-Method": "POST",
      "Access-Control-Request-Private-Network": "true",
    },
    client,
  });
  await preflight.body?.cancel();
  assertEquals(preflight.status, 204);
  assertEquals(preflight.headers.get("access-control-allow-private-network"), "true");
});

Deno.test("unknown routes answer 404", async () => {
  const response = await call(v4, "/Forward/test/x");
  assertEquals(response.status, 404);
  await response.body?.cancel();
});

addEventListener("unload", () => {
  client.close();
  Deno.removeSync(workDir, { recursive: true });
});

Deno.test({
  name: "stop the listeners",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await v4.stop();
    await v3.stop();
  },
});
