/**
 * `kortti verify` on CMS signatures: what `openssl cms -sign` makes with the TEST PKI keys (ECDSA, RSA PKCS#1 v1.5,
 * RSA-PSS) verifies; a byte changed in the content, the signature or a signed attribute fails with exit 1 and its
 * own problem; expired and untrusted signers fail each with their own problem; trust comes only from --ca, the
 * trust directory or --test-pki.
 */

import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { opensslOk, opensslSign } from "./helpers/openssl.ts";

const PKI = `${ROOT}/fixtures/pki`;
const work = Deno.makeTempDirSync({ prefix: "kortti-verify-" });
/** An empty data home, so that no default trust anchors of the machine count. */
const env = { XDG_DATA_HOME: `${work}/xdg`, HOME: work };
const data = `${work}/data`;
Deno.writeFileSync(data, crypto.getRandomValues(new Uint8Array(50_000)));

/** Signs `data` with a TEST PKI key via openssl; returns the CMS path. */
function signData(profile: string, extra: string[] = [], name = profile): Promise<string> {
  return opensslSign(profile, data, `${work}/${name}.p7s`, { extra });
}

async function verifyJson(args: string[]) {
  const run = await runKortti(["verify", ...args, "--json"], { env });
  return { code: run.code, report: run.stdout ? JSON.parse(run.stdout) : undefined, stderr: run.stderr };
}

function flipByte(path: string, at: number, into: string): string {
  const bytes = Deno.readFileSync(path);
  bytes[at < 0 ? bytes.length + at : at] ^= 0x01;
  Deno.writeFileSync(into, bytes);
  return into;
}

function indexOf(haystack: Uint8Array, needle: number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

Deno.test("an openssl ECDSA P-384 CMS with the qualified key verifies under --test-pki, reported check by check", async () => {
  const sig = await signData("v4-sign", ["-md", "sha384"]);
  const { code, report } = await verifyJson(["--in", data, "--sig", sig, "--test-pki"]);
  assertEquals(code, 0);
  assertEquals([report.valid, report.signatureValid, report.chainValid], [true, true, true]);
  assertEquals(report.revocation, "not-checked");
  assertEquals(report.problems, []);
  assertEquals(report.signatureAlgorithm, "SHA384withECDSA");
  assertEquals(report.signer.qualified, true);
  assertEquals(report.signer.keyUsage, ["nonRepudiation"]);
  assertMatch(report.signer.subject, /MEIKÄLÄINEN-TEST MATTI 99999991C/);
  assert(Math.abs(Date.parse(report.signingTime) - Date.now()) < 120_000, "signing time is the signing-time attribute");
  assertEquals(report.chain.length, 3);
});

Deno.test("the human verdict names the signer, the kind of signature and the time on one line", async () => {
  const sig = await signData("v4-sign", [], "v4-human");
  const run = await runKortti(["verify", "--in", data, "--sig", sig, "--test-pki"], { env });
  assertEquals(run.code, 0);
  assertMatch(
    run.stdout,
    /^valid: signed by MEIKÄLÄINEN-TEST MATTI 99999991C \(qualified signature\) at \d{4}-\d\d-\d\d \d\d:\d\d UTC\n$/,
  );
});

Deno.test("an authentication-key signature verifies and says it is not a qualified signature", async () => {
  const sig = await signData("v4-auth");
  const run = await runKortti(["verify", "--in", data, "--sig", sig, "--test-pki"], { env });
  assertEquals(run.code, 0);
  assertMatch(run.stdout, /\(digitalSignature key, not a qualified signature\)/);
});

Deno.test("openssl RSA PKCS#1 v1.5 and RSA-PSS CMS verify, PSS parameters honoured", async () => {
  const pkcs1 = await signData("org-sign", [], "org-pkcs1");
  const pss = await signData("org-sign", ["-keyopt", "rsa_padding_mode:pss", "-md", "sha384"], "org-pss");
  const a = await verifyJson(["--in", data, "--sig", pkcs1, "--test-pki"]);
  assertEquals([a.code, a.report.signatureAlgorithm], [0, "SHA256withRSA"]);
  const b = await verifyJson(["--in", data, "--sig", pss, "--test-pki"]);
  assertEquals([b.code, b.report.signatureAlgorithm], [0, "SHA384withRSA/PSS"]);
});

Deno.test("a PEM CMS with the content inside verifies from --in alone", async () => {
  const out = await opensslSign("v3-sign", data, `${work}/attached.pem`, { outform: "PEM", extra: ["-nodetach"] });
  const { code, report } = await verifyJson(["--in", out, "--test-pki"]);
  assertEquals([code, report.format, report.valid], [0, "cms", true]);
});

Deno.test("intermediates come from the CMS and trust from a --ca file (root only), no --test-pki needed", async () => {
  const sig = await signData("v3-sign", ["-certfile", `${PKI}/citizen-ca.pem`], "with-chain");
  const { code, report } = await verifyJson(["--in", data, "--sig", sig, "--ca", `${PKI}/root-ca.pem`]);
  assertEquals([code, report.chainValid], [0, true]);
});

Deno.test("trust anchors in $XDG_DATA_HOME/kortti/trust count by default", async () => {
  const sig = await signData("v4-sign", ["-certfile", `${PKI}/citizen-ca.pem`], "trust-dir");
  const home = `${work}/xdg-trusting`;
  Deno.mkdirSync(`${home}/kortti/trust`, { recursive: true });
  Deno.copyFileSync(`${PKI}/root-ca.pem`, `${home}/kortti/trust/dvv-test-root.pem`);
  const run = await runKortti(["verify", "--in", data, "--sig", sig, "--json"], {
    env: { XDG_DATA_HOME: home, HOME: work },
  });
  assertEquals(run.code, 0, run.stdout + run.stderr);
});

Deno.test("changed content: exit 1, the message digest differs", async () => {
  const sig = await signData("v4-sign", [], "content");
  const changed = flipByte(data, 100, `${work}/data-changed`);
  const { code, report } = await verifyJson(["--in", changed, "--sig", sig, "--test-pki"]);
  assertEquals([code, report.valid, report.signatureValid, report.chainValid], [1, false, false, true]);
  assert(report.problems.some((p: string) => /content does not match the signature/.test(p)), report.problems);
});

Deno.test("changed signature value: exit 1, the signature over the signed attributes does not verify", async () => {
  const sig = await signData("v4-sign", [], "sigvalue");
  // Without unsigned attributes the signature value ends the file; its last byte is part of the ECDSA s.
  const changed = flipByte(sig, -1, `${work}/sig-changed.p7s`);
  const { code, report } = await verifyJson(["--in", data, "--sig", changed, "--test-pki"]);
  assertEquals([code, report.signatureValid], [1, false]);
  assert(report.problems.some((p: string) => /signed attributes does not verify/.test(p)), report.problems);
  assert(!report.problems.some((p: string) => /content does not match/.test(p)), "the digest still matches");
});

Deno.test("changed signed attribute (signing time): exit 1, the signature does not verify", async () => {
  const sig = await signData("v4-sign", [], "attr");
  const bytes = Deno.readFileSync(sig);
  // signingTime OID 1.2.840.113549.1.9.5, then SET { UTCTime "YYMMDDhhmmssZ" }: change the last seconds digit.
  const oid = indexOf(bytes, [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x05]);
  assert(oid > 0);
  const secondsDigit = oid + 11 + 2 + 2 + 12;
  bytes[secondsDigit] = bytes[secondsDigit] === 0x30 ? 0x31 : 0x30;
  Deno.writeFileSync(`${work}/attr-changed.p7s`, bytes);
  const { code, report } = await verifyJson(["--in", data, "--sig", `${work}/attr-changed.p7s`, "--test-pki"]);
  assertEquals([code, report.signatureValid], [1, false]);
  assert(report.problems.some((p: string) => /signed attributes does not verify/.test(p)), report.problems);
  assert(!report.problems.some((p: string) => /content does not match/.test(p)), "the digest still matches");
});

Deno.test("expired signer certificate: exit 1, says it expired before the signing time; --at inside its life passes", async () => {
  const sig = await signData("expired");
  const { code, report } = await verifyJson(["--in", data, "--sig", sig, "--test-pki"]);
  assertEquals([code, report.signatureValid, report.chainValid], [1, true, false]);
  assert(report.problems.some((p: string) => /VANHENTUNUT.*expired on 2021-01-01.*before the signing time/.test(p)));
  const back = await verifyJson(["--in", data, "--sig", sig, "--test-pki", "--at", "2020-06-01T12:00:00Z"]);
  assertEquals(back.code, 0);
});

Deno.test("without any trust anchor the chain is not trusted: exit 1, says where the chain ends", async () => {
  const sig = await signData("v4-sign", ["-certfile", `${PKI}/citizen-ca.pem`], "untrusted");
  const { code, report } = await verifyJson(["--in", data, "--sig", sig]);
  assertEquals([code, report.signatureValid, report.chainValid], [1, true, false]);
  assert(
    report.problems.some((p: string) => /issuer of .*Citizen Certificates.*not trusted/.test(p)),
    report.problems,
  );
});

Deno.test("a self-signed signer trusted by --ca verifies; another anchor does not make it trusted", async () => {
  await opensslOk([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${work}/self.key`,
    "-out",
    `${work}/self.pem`,
    "-subj",
    "/CN=self signer",
    "-days",
    "2",
  ]);
  const sig = await opensslSign({ cert: `${work}/self.pem`, key: `${work}/self.key` }, data, `${work}/self.p7s`);
  assertEquals((await verifyJson(["--in", data, "--sig", sig, "--ca", `${work}/self.pem`])).code, 0);
  const other = await verifyJson(["--in", data, "--sig", sig, "--ca", `${PKI}/root-ca.pem`]);
  assertEquals(other.code, 1);
  assert(
    other.report.problems.some((p: string) => /chain ends at 'self signer', which is not a trust anchor/.test(p)),
  );
});

Deno.test("a large detached content (hashed ahead in a worker) verifies, and a change at its end is caught", async () => {
  const big = `${work}/big.bin`;
  const file = Deno.openSync(big, { write: true, create: true });
  file.truncateSync(40 * 1024 * 1024);
  file.close();
  const sig = await opensslSign("v4-sign", big, `${work}/big.p7s`, { extra: ["-md", "sha512"] });
  const ok = await verifyJson(["--in", big, "--sig", sig, "--test-pki"]);
  assertEquals([ok.code, ok.report.signatureAlgorithm], [0, "SHA512withECDSA"]);
  const handle = Deno.openSync(big, { write: true });
  handle.seekSync(-1, Deno.SeekMode.End);
  handle.writeSync(Uint8Array.of(1));
  handle.close();
  const changed = await verifyJson(["--in", big, "--sig", sig, "--test-pki"]);
  assertEquals([changed.code, changed.report.signatureValid], [1, false]);
  assert(changed.report.problems.some((p: string) => /content does not match the signature/.test(p)));
});

Deno.test("a certificate issued by a non-CA certificate breaks the chain: 'is not a CA'", async () => {
  // v4-auth (a leaf, no basicConstraints cA) issues a certificate with its TEST key.
  const key = `${work}/sub.key`;
  const cert = `${work}/sub.pem`;
  await opensslOk(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  await opensslOk(["req", "-new", "-key", key, "-subj", "/CN=ALAINEN-TEST", "-out", `${work}/sub.csr`]);
  await opensslOk([
    "x509",
    "-req",
    "-in",
    `${work}/sub.csr`,
    "-CA",
    `${PKI}/v4-auth.pem`,
    "-CAkey",
    `${PKI}/v4-auth.TEST-KEY.pem`,
    "-set_serial",
    "5",
    "-days",
    "2",
    "-out",
    cert,
  ]);
  const sig = await opensslSign({ cert, key }, data, `${work}/sub.p7s`, { extra: ["-certfile", `${PKI}/v4-auth.pem`] });
  const { code, report } = await verifyJson(["--in", data, "--sig", sig, "--test-pki"]);
  assertEquals([code, report.signatureValid, report.chainValid], [1, true, false]);
  assert(
    report.problems.some((p: string) =>
      /MEIKÄLÄINEN-TEST MATTI 99999991C' issued a certificate but is not a CA/.test(p)
    ),
  );
});

globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));
