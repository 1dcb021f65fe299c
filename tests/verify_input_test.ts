/**
 * `kortti verify` input handling: raw signatures with --cert (ECDSA DER and P1363, RSA PKCS#1 and PSS, hash found
 * without being told), format detection, and malformed input (truncated DER, random bytes, a 50 MB garbage file, a
 * missing file) giving exit 2 or 7 with one clear line, never a crash or a stack trace.
 */

import { assert, assertEquals, assertMatch, assertNotMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { opensslOk, opensslSign } from "./helpers/openssl.ts";

const PKI = `${ROOT}/fixtures/pki`;
const work = Deno.makeTempDirSync({ prefix: "kortti-verify-in-" });
const env = { XDG_DATA_HOME: `${work}/xdg`, HOME: work };
const data = `${work}/data`;
Deno.writeFileSync(data, crypto.getRandomValues(new Uint8Array(30_000)));
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

function noCrash(run: { code: number; stderr: string }): void {
  assert(run.code === 2 || run.code === 7, `exit ${run.code}: ${run.stderr}`);
  assertNotMatch(run.stderr, / {4}at /);
  assertMatch(run.stderr, /^kortti: [^\n]+\n$/);
}

Deno.test("raw ECDSA signatures (DER and IEEE P1363, SHA-384) verify with --cert; the hash is found", async () => {
  const der = `${work}/v4.sig`;
  await opensslOk(["dgst", "-sha384", "-sign", `${PKI}/v4-sign.TEST-KEY.pem`, "-out", der, data]);
  const a = await runKortti(
    ["verify", "--in", data, "--sig", der, "--cert", `${PKI}/v4-sign.pem`, "--test-pki", "--json"],
    { env },
  );
  assertEquals(a.code, 0, a.stdout + a.stderr);
  const report = JSON.parse(a.stdout);
  assertEquals([report.format, report.signatureAlgorithm, report.signingTime], ["raw", "SHA384withECDSA", null]);
  const p1363 = `${work}/v4.p1363`;
  await opensslOk([
    "pkeyutl",
    "-sign",
    "-inkey",
    `${PKI}/v4-sign.TEST-KEY.pem`,
    "-rawin",
    "-digest",
    "sha384",
    "-in",
    data,
    "-out",
    `${work}/tmp.der`,
  ]);
  // DER ECDSA-Sig-Value -> r||s, 48 bytes each for P-384.
  Deno.writeFileSync(p1363, derToP1363(Deno.readFileSync(`${work}/tmp.der`), 48));
  const b = await runKortti(
    ["verify", "--in", data, "--sig", p1363, "--format", "raw", "--cert", `${PKI}/v4-sign.pem`, "--test-pki"],
    { env },
  );
  assertEquals(b.code, 0, b.stdout + b.stderr);
});

Deno.test("raw RSA PKCS#1 and PSS signatures verify; a changed file does not (exit 1)", async () => {
  const pkcs1 = `${work}/org.sig`;
  const pss = `${work}/org-pss.sig`;
  await opensslOk(["dgst", "-sha256", "-sign", `${PKI}/org-sign.TEST-KEY.pem`, "-out", pkcs1, data]);
  await opensslOk([
    "dgst",
    "-sha512",
    "-sign",
    `${PKI}/org-sign.TEST-KEY.pem`,
    "-sigopt",
    "rsa_padding_mode:pss",
    "-out",
    pss,
    data,
  ]);
  for (const [sig, algorithm] of [[pkcs1, "SHA256withRSA"], [pss, "SHA512withRSA/PSS"]]) {
    const run = await runKortti(
      ["verify", "--in", data, "--sig", sig, "--cert", `${PKI}/org-sign.pem`, "--test-pki", "--json"],
      { env },
    );
    assertEquals([run.code, JSON.parse(run.stdout).signatureAlgorithm], [0, algorithm], run.stderr);
  }
  const changed = `${work}/data-changed`;
  const bytes = Deno.readFileSync(data);
  bytes[5] ^= 1;
  Deno.writeFileSync(changed, bytes);
  const bad = await runKortti([
    "verify",
    "--in",
    changed,
    "--sig",
    pkcs1,
    "--cert",
    `${PKI}/org-sign.pem`,
    "--test-pki",
  ], {
    env,
  });
  assertEquals(bad.code, 1);
  assertMatch(bad.stdout, /^invalid: the signature does not hold/);
  assertMatch(bad.stdout, /raw signature does not verify/);
});

Deno.test("random bytes as the signature: exit 7 with one line saying it is not a CMS", async () => {
  Deno.writeFileSync(`${work}/random`, crypto.getRandomValues(new Uint8Array(3000)));
  const run = await runKortti(["verify", "--in", data, "--sig", `${work}/random`, "--test-pki"], { env });
  noCrash(run);
  assertMatch(run.stderr, /not a CMS signature/);
});

Deno.test("a truncated CMS: exit 7, not a crash (PEM and DER)", async () => {
  const sig = await opensslSign("v4-sign", data, `${work}/whole.p7s`);
  const whole = Deno.readFileSync(sig);
  for (const length of [1, 20, 700, whole.length - 1]) {
    Deno.writeFileSync(`${work}/trunc`, whole.subarray(0, length));
    noCrash(await runKortti(["verify", "--in", data, "--sig", `${work}/trunc`, "--test-pki"], { env }));
  }
  const pem = `-----BEGIN CMS-----\n${btoa(String.fromCharCode(...whole.subarray(0, 500)))}\n-----END CMS-----\n`;
  Deno.writeTextFileSync(`${work}/trunc.pem`, pem);
  noCrash(await runKortti(["verify", "--in", data, "--sig", `${work}/trunc.pem`, "--test-pki"], { env }));
});

Deno.test("a 50 MB garbage file as signature or as attached CMS: exit 7 quickly, JSON error with --json", async () => {
  const garbage = `${work}/garbage`;
  const file = Deno.openSync(garbage, { write: true, create: true });
  const block = new Uint8Array(1024 * 1024);
  for (let i = 0; i < 50; i++) file.writeSync(fill(block));
  file.close();
  const started = Date.now();
  noCrash(await runKortti(["verify", "--in", data, "--sig", garbage, "--test-pki"], { env }));
  const json = await runKortti(["verify", "--in", garbage, "--test-pki", "--json"], { env });
  assertEquals(json.code, 7);
  assertEquals(JSON.parse(json.stderr).error.code, "INPUT_FORMAT");
  assert(Date.now() - started < 20_000, "garbage is rejected without long work");
});

Deno.test("usage and I/O: missing file is exit 7, --format raw without --cert and a bad --at are exit 2", async () => {
  const missing = await runKortti(["verify", "--in", data, "--sig", `${work}/nope.p7s`], { env });
  noCrash(missing);
  assertEquals(missing.code, 7);
  const raw = await runKortti(["verify", "--in", data, "--sig", data, "--format", "raw"], { env });
  assertEquals(raw.code, 2);
  const at = await runKortti(["verify", "--in", data, "--sig", data, "--at", "yesterday-ish"], { env });
  assertEquals(at.code, 2);
  const noIn = await runKortti(["verify", "--sig", data], { env });
  assertEquals(noIn.code, 2);
});

/** Fills a 1 MiB block with random bytes (getRandomValues takes at most 64 KiB at a time). */
function fill(block: Uint8Array): Uint8Array {
  for (let at = 0; at < block.length; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
  return block;
}

function derToP1363(der: Uint8Array, size: number): Uint8Array {
  // SEQUENCE { INTEGER r, INTEGER s }, short or long form lengths.
  let at = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  const out = new Uint8Array(size * 2);
  for (let i = 0; i < 2; i++) {
    const length = der[at + 1];
    let value = der.subarray(at + 2, at + 2 + length);
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    out.set(value, size * (i + 1) - value.length);
    at += 2 + length;
  }
  return out;
}
