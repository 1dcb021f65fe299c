// `kortti list-certs` as a user runs it: on the in-process virtual card, and through a real pcscd + vpcd with the
// virtual card plugged in by `kortti virtual-card`, for v3, v4 and org. Certificates must be the fixture files byte
// for byte (SHA-256 of `openssl x509 -outform DER`); PIN state must follow wrong PINs kept in the card's state file;
// a card pulled after any of its APDUs must end with exit 4, the reinsert hint and no file in --out.

import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { plugCard, stackTest, waitForCard } from "./helpers/stack.ts";
import { openssl } from "./helpers/openssl.ts";
import { fromHex } from "../lib/apdu.ts";
import { openCard } from "../lib/open.ts";
import { PinWrongError } from "../lib/errors.ts";
import { describeCertificate } from "../lib/card/certificate-info.ts";
import { certificateTable } from "../cli/list-certs.ts";

type Profile = "v3" | "v4" | "org";
const PROFILES: Profile[] = ["v3", "v4", "org"];
const READER0 = "Virtual PCD 00 00";
const READER1 = "Virtual PCD 00 01";

interface ListedCertificate {
  key: string;
  keyReference: string;
  pin: { name: string; reference: string; triesLeft: number; blocked: boolean };
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  keyAlgorithm: string;
  keyUsage: string[];
  sha256: string;
  pem: string;
}

interface Listing {
  reader: string;
  card: { family: string; model: string; serialNumber: string | null };
  certificates: ListedCertificate[];
}

/** SHA-256 of the fixture certificate as openssl writes its DER. */
async function fixtureSha256(profile: Profile, key: string): Promise<string> {
  const der = await openssl(["x509", "-in", `${ROOT}/fixtures/pki/${profile}-${key}.pem`, "-outform", "DER"]);
  return await sha256Hex(der.stdoutBytes);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes))))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

function derOfPem(pem: string): Uint8Array {
  return Uint8Array.from(atob(pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, "")), (c) => c.charCodeAt(0));
}

async function assertFixtureCertificates(listing: Listing, profile: Profile, triesLeft = { PIN1: 5, PIN2: 5 }) {
  assertEquals(listing.certificates.map((c) => c.key), ["auth", "sign"], profile);
  for (const c of listing.certificates) {
    const expected = await fixtureSha256(profile, c.key);
    assertEquals(c.sha256, expected, `${profile} ${c.key} sha256`);
    assertEquals(await sha256Hex(derOfPem(c.pem)), expected, `${profile} ${c.key} pem`);
    assertEquals(c.pin.triesLeft, triesLeft[c.pin.name as "PIN1" | "PIN2"], `${profile} ${c.pin.name}`);
    assertEquals(c.pin.blocked, false);
  }
  const [auth, sign] = listing.certificates;
  assert(sign.keyUsage.includes("nonRepudiation"));
  assert(auth.keyUsage.includes("digitalSignature"));
  assertEquals(
    listing.certificates.map((c) => c.keyAlgorithm),
    { v3: ["RSA 2048", "EC P-256"], v4: ["EC P-384", "EC P-384"], org: ["RSA 2048", "RSA 2048"] }[profile],
  );
  assertEquals(
    listing.certificates.map((c) => [c.keyReference, c.pin.name, c.pin.reference]),
    {
      v3: [["01", "PIN1", "11"], ["03", "PIN2", "82"]],
      v4: [["01", "PIN1", "11"], ["02", "PIN2", "82"]],
      org: [["01", "PIN1", "03"], ["82", "PIN2", "04"]],
    }[profile],
  );
  assertEquals(listing.card.family, { v3: "fineid-v3", v4: "fineid-v4", org: "dvv-org" }[profile]);
  assertEquals(listing.card.serialNumber, { v3: "999000301", v4: "999000401", org: "999000901" }[profile]);
  assertMatch(auth.subject, /^C=FI, .*serialNumber=\d+[A-Z], GN=[A-Z]+, SN=.*, CN=/);
  assertMatch(auth.issuer, /CN=DVV TEST (Citizen|Organisation) Certificates/);
  assertEquals(auth.notBefore, "2025-01-01T00:00:00.000Z");
}

Deno.test("list-certs --json on each in-process virtual card gives the fixture certificates byte for byte", async () => {
  for (const profile of PROFILES) {
    const run = await runKortti(["list-certs", `--virtual-card=${profile}`, "--json"]);
    assertEquals(run.code, 0, run.stderr);
    const listing = JSON.parse(run.stdout) as Listing;
    assertEquals(listing.reader, "virtual");
    await assertFixtureCertificates(listing, profile);
  }
});

Deno.test("list-certs prints a table by default, --pem both certificates, --key one of them", async () => {
  const human = await runKortti(["list-certs", "--virtual-card=v4"]);
  assertEquals(human.code, 0, human.stderr);
  assertMatch(human.stdout, /KEY +SUBJECT CN +ISSUER CN +VALIDITY +ALGORITHM +PIN/);
  assertMatch(
    human.stdout,
    /auth +MEIKÄLÄINEN-TEST MATTI 99999991C +DVV TEST Citizen Certificates - G5E +2025-01-01 \.\. 2045-01-01 +EC P-384 +PIN1: 5 tries left/,
  );
  assertMatch(human.stdout, /sign .* PIN2: 5 tries left/);

  const pem = await runKortti(["list-certs", "--virtual-card=v3", "--pem"]);
  assertEquals(pem.code, 0, pem.stderr);
  const blocks = pem.stdout.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];
  assertEquals(blocks.length, 2);
  assertEquals(blocks.join(""), pem.stdout);
  assertEquals(await sha256Hex(derOfPem(blocks[0])), await fixtureSha256("v3", "auth"));
  assertEquals(await sha256Hex(derOfPem(blocks[1])), await fixtureSha256("v3", "sign"));

  const onlySign = await runKortti(["list-certs", "--virtual-card=org", "--key", "sign", "--json"]);
  assertEquals(onlySign.code, 0, onlySign.stderr);
  const listing = JSON.parse(onlySign.stdout) as Listing;
  assertEquals(listing.certificates.map((c) => c.key), ["sign"]);
  assertEquals(listing.certificates[0].sha256, await fixtureSha256("org", "sign"));

  const both = await runKortti(["list-certs", "--virtual-card", "--json", "--pem"]);
  assertEquals(both.code, 2);
  const badKey = await runKortti(["list-certs", "--virtual-card", "--key", "other"]);
  assertEquals(badKey.code, 2);
});

Deno.test("list-certs --trace on the v4 card shows exactly the 16 APDUs the doc's sequence needs", async () => {
  // SELECT 4331 + 5 READ BINARY (844 bytes at 181 a chunk), SELECT 5016/4332 + 5 READ BINARY (871 bytes),
  // GET DATA PIN1 + GET DATA PIN2, SELECT 5015/5032 + 1 READ BINARY (token info: the serial number).
  const run = await runKortti(["list-certs", "--virtual-card=v4", "--json", "--trace"]);
  assertEquals(run.code, 0, run.stderr);
  const sent = run.stderr.split("\n").filter((l) => l.startsWith("kortti: trace: > ")).map((l) => l.split("  ")[1]);
  assertEquals(sent.length, 16);
  assertEquals(sent.filter((d) => d.startsWith("SELECT FILE")), [
    "SELECT FILE 4331",
    "SELECT FILE 5016/4332",
    "SELECT FILE 5015/5032",
  ]);
  assertEquals(sent.filter((d) => d.startsWith("READ BINARY")).length, 11);
  assertEquals(sent.filter((d) => d.startsWith("GET DATA")), ["GET DATA PIN1 status", "GET DATA PIN2 status"]);
  // --pem needs only the certificates: 12.
  const pem = await runKortti(["list-certs", "--virtual-card=v4", "--pem", "--trace"]);
  assertEquals(pem.stderr.split("\n").filter((l) => l.startsWith("kortti: trace: > ")).length, 12);
});

Deno.test("the table marks expired and not-yet-valid certificates and says when a PIN is blocked", async () => {
  const der = derOfPem(await Deno.readTextFile(`${ROOT}/fixtures/pki/expired.pem`));
  const certificate = {
    key: "sign" as const,
    keyReference: "02",
    pin: "PIN2" as const,
    pinReference: "82",
    der,
    path: "",
  };
  const expired = await describeCertificate(certificate, {
    name: "PIN2",
    reference: "82",
    triesLeft: 1,
    blocked: false,
  });
  const early = await describeCertificate(
    certificate,
    { name: "PIN2", reference: "82", triesLeft: 0, blocked: true },
    new Date("2019-06-01T00:00:00Z"),
  );
  const text = certificateTable([expired, early]);
  assertMatch(text, /EXPIRED 2020-01-01 \.\. 2021-01-01 .* PIN2: 1 try left/);
  assertMatch(text, /NOT YET VALID 2020-01-01 \.\. 2021-01-01 .* PIN2: BLOCKED/);
});

Deno.test("list-certs --out writes auth.pem and sign.pem (creating the directory) and nothing else", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-list-certs-" });
  try {
    const out = `${dir}/certs`;
    const run = await runKortti(["list-certs", "--virtual-card=v4", "--out", out, "--json"]);
    assertEquals(run.code, 0, run.stderr);
    const names = [...Deno.readDirSync(out)].map((e) => e.name).sort();
    assertEquals(names, ["auth.pem", "sign.pem"]);
    for (const key of ["auth", "sign"]) {
      assertEquals(
        await sha256Hex(derOfPem(await Deno.readTextFile(`${out}/${key}.pem`))),
        await fixtureSha256("v4", key),
      );
    }
    // Again into the same directory: the files are replaced, still nothing else there.
    const again = await runKortti(["list-certs", "--virtual-card=v3", "--out", out, "--key", "auth"]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals([...Deno.readDirSync(out)].map((e) => e.name).sort(), ["auth.pem", "sign.pem"]);
    assertEquals(
      await sha256Hex(derOfPem(await Deno.readTextFile(`${out}/auth.pem`))),
      await fixtureSha256("v3", "auth"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function plugVirtualCard(profile: Profile, extra: string[] = [], port = 35963): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(`${ROOT}/kortti`, {
    args: ["virtual-card", "--profile", profile, "--vpcd", `127.0.0.1:${port}`, ...extra],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForCard(port === 35963 ? READER0 : READER1, true, 10000);
  return child;
}

async function unplug(child: Deno.ChildProcess, reader = READER0): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await child.status;
  await waitForCard(reader, false, 10000);
}

/** Two wrong PIN2 VERIFYs through PC/SC, as any program would send them. */
async function spendTwoPin2Tries(): Promise<void> {
  const card = await openCard({ reader: READER0 });
  try {
    for (const left of [4, 3]) {
      try {
        await card.sign({
          key: "sign",
          digest: new Uint8Array(32),
          hash: "sha256",
          pin: () => Promise.resolve(new TextEncoder().encode("999999")),
        });
        throw new Error("a wrong PIN was accepted");
      } catch (error) {
        if (!(error instanceof PinWrongError)) throw error;
        assertEquals(error.triesLeft, left);
      }
    }
  } finally {
    await card.close();
  }
}

stackTest(
  "through pcscd + vpcd: list-certs --json gives each profile's fixture certificates and PIN state, also after two wrong PINs kept in the state file",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kortti-list-certs-" });
    try {
      for (const profile of PROFILES) {
        const state = `${dir}/${profile}.state`;
        let card = await plugVirtualCard(profile, ["--state", state]);
        try {
          const run = await runKortti(["list-certs", "--json"]);
          assertEquals(run.code, 0, run.stderr);
          const listing = JSON.parse(run.stdout) as Listing;
          assertEquals(listing.reader, READER0);
          await assertFixtureCertificates(listing, profile);
          await spendTwoPin2Tries();
        } finally {
          await unplug(card);
        }
        // The counters live in the card's state: a re-inserted card still has 3 tries of PIN2.
        card = await plugVirtualCard(profile, ["--state", state]);
        try {
          const run = await runKortti(["list-certs", "--json", "--reader", "0"]);
          assertEquals(run.code, 0, run.stderr);
          await assertFixtureCertificates(JSON.parse(run.stdout), profile, { PIN1: 5, PIN2: 3 });
          const pins = await runKortti(["pin-status", "--json"]);
          assertEquals(pins.code, 0, pins.stderr);
          assertEquals(
            (JSON.parse(pins.stdout).pins as { name: string; triesLeft: number }[]).map((p) => [p.name, p.triesLeft]),
            [["PIN1", 5], ["PIN2", 3], ["PUK", 5]],
          );
        } finally {
          await unplug(card);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

stackTest(
  "through pcscd + vpcd: a card pulled after any of list-certs' 16 APDUs exits 4 with the reinsert hint and no --out file",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kortti-list-certs-" });
    try {
      for (let n = 1; n <= 16; n++) {
        const out = `${dir}/out-${n}`;
        const card = await plugVirtualCard("v4", ["--fail-after", String(n)]);
        try {
          const run = await runKortti(["list-certs", "--json", "--out", out], { timeoutMs: 20_000 });
          if (n === 16) {
            // All 16 answered: list-certs needs no more.
            assertEquals(run.code, 0, `n=${n}: ${run.stderr}`);
            continue;
          }
          assertEquals(run.code, 4, `n=${n}: ${run.stderr}`);
          const error = JSON.parse(run.stderr).error;
          assertEquals(error.code, "CARD_REMOVED", `n=${n}`);
          assertMatch(error.message, /removed/);
          assertEquals(run.stdout, "");
          let files: string[] = [];
          try {
            files = [...Deno.readDirSync(out)].map((e) => e.name);
          } catch {
            // not even created
          }
          assertEquals(files, [], `n=${n}`);
        } finally {
          await unplug(card);
        }
      }
      // And the human message says what to do.
      const card = await plugVirtualCard("v4", ["--fail-after", "3"]);
      try {
        const run = await runKortti(["list-certs"]);
        assertEquals(run.code, 4);
        assertMatch(run.stderr, /^kortti: the card was removed .*: reinsert the card and retry\n$/);
      } finally {
        await unplug(card);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

stackTest(
  "through pcscd + vpcd: reader choice, no card, unknown reader, several cards, an unsupported card",
  async () => {
    const noCard = await runKortti(["list-certs", "--json"]);
    assertEquals(noCard.code, 4, noCard.stderr);
    assertEquals(JSON.parse(noCard.stderr).error.code, "CARD_ABSENT");

    const noSuchReader = await runKortti(["list-certs", "--reader", "no such reader"]);
    assertEquals(noSuchReader.code, 3, noSuchReader.stderr);

    const first = await plugVirtualCard("v4");
    const second = await plugVirtualCard("org", [], 35964);
    try {
      const ambiguous = await runKortti(["list-certs"]);
      assertEquals(ambiguous.code, 2);
      assertMatch(ambiguous.stderr, /0: Virtual PCD 00 00, 1: Virtual PCD 00 01/);
      const byIndex = await runKortti(["list-certs", "--reader", "1", "--json"]);
      assertEquals(byIndex.code, 0, byIndex.stderr);
      assertEquals(JSON.parse(byIndex.stdout).card.family, "dvv-org");
      const byName = await runKortti(["list-certs", "--reader", "pcd 00 00", "--json"]);
      assertEquals(byName.code, 0, byName.stderr);
      assertEquals(JSON.parse(byName.stdout).card.family, "fineid-v4");
    } finally {
      await unplug(second, READER1);
      await unplug(first);
    }

    // A card kortti does not know, without a PKCS#15 application: exit 4 naming its ATR.
    const strange = await plugCard({ atr: fromHex("3B021415"), respond: () => fromHex("6A82") });
    try {
      await waitForCard(READER0, true);
      const run = await runKortti(["list-certs"]);
      assertEquals(run.code, 4, run.stderr);
      assertMatch(run.stderr, /ATR 3B021415/);
    } finally {
      await strange.close();
    }
  },
);
