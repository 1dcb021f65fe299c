/**
 * `kortti verify --ocsp` against a real `openssl ocsp` responder for the TEST PKI on loopback (the AIA URL of the
 * test certificates, http://127.0.0.1:38080/), and `--crl` with the citizen CA's CRL: good stays good, revoked is
 * exit 1 with its own problem, an unreachable or unauthorised responder is "unknown", never "good".
 */

import { assert, assertEquals } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { cmsSignArgs, opensslOk, opensslSign } from "./helpers/openssl.ts";

const PKI = `${ROOT}/fixtures/pki`;
const PORT = 38080;
const work = Deno.makeTempDirSync({ prefix: "kortti-verify-rev-" });
const env = { XDG_DATA_HOME: `${work}/xdg`, HOME: work };
const data = `${work}/data`;
Deno.writeFileSync(data, crypto.getRandomValues(new Uint8Array(10_000)));
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

function sign(profile: string): Promise<string> {
  return opensslSign(profile, data, `${work}/${profile}.p7s`);
}

/** Starts `openssl ocsp` on port 38080 signing with the given responder; waits until it listens. */
async function startResponder(signer = "ocsp-responder"): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("openssl", {
    args: [
      "ocsp",
      "-index",
      `${PKI}/ocsp-index.txt`,
      "-CA",
      `${PKI}/citizen-ca.pem`,
      "-rsigner",
      `${PKI}/${signer}.pem`,
      "-rkey",
      `${PKI}/${signer}.TEST-KEY.pem`,
      "-port",
      `${PORT}`,
      "-nmin",
      "10",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  // openssl says "waiting for OCSP client connections" once it listens; a probe connection would hold its only
  // thread, so wait for the line instead, then keep draining stderr.
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 5000;
  while (!seen.includes("waiting for OCSP client connections") && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  if (!seen.includes("waiting for OCSP client connections")) throw new Error(`openssl ocsp did not start: ${seen}`);
  return child;
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await child.status;
}

async function verifyJson(args: string[]) {
  const run = await runKortti(["verify", ...args, "--json"], { env });
  return { code: run.code, report: JSON.parse(run.stdout), stderr: run.stderr };
}

const matches = (problems: string[], pattern: RegExp) => problems.some((p) => pattern.test(p));

Deno.test("OCSP: a good certificate is good, a revoked one is exit 1 with the OCSP reason", async () => {
  const good = await sign("v4-sign");
  const revoked = await sign("revoked");
  const responder = await startResponder();
  try {
    const a = await verifyJson(["--in", data, "--sig", good, "--test-pki", "--ocsp"]);
    assertEquals([a.code, a.report.revocation, a.report.problems], [0, "good", []]);
    const b = await verifyJson(["--in", data, "--sig", revoked, "--test-pki", "--ocsp"]);
    assertEquals([b.code, b.report.valid, b.report.signatureValid, b.report.revocation], [1, false, true, "revoked"]);
    assert(matches(b.report.problems, /PERUTTU-TEST.*is revoked \(OCSP, since 2025-06-01.*keyCompromise\)/));
  } finally {
    await stop(responder);
  }
});

Deno.test("OCSP: an unreachable responder gives revocation unknown with a problem line, never good", async () => {
  const good = await sign("v3-sign");
  const run = await runKortti(["verify", "--in", data, "--sig", good, "--test-pki", "--ocsp"], { env });
  assertEquals(run.code, 0);
  assert(/^valid: .*; revocation: unknown\n/.test(run.stdout), run.stdout);
  assert(/OCSP: the responder http:\/\/127\.0\.0\.1:38080\/ is unreachable/.test(run.stdout), run.stdout);
});

Deno.test("OCSP: an answer signed by a certificate without id-kp-OCSPSigning is not trusted: unknown", async () => {
  const good = await sign("v4-sign");
  // v4-auth is issued by the citizen CA too, but not for OCSP signing.
  const responder = await startResponder("v4-auth");
  try {
    const { code, report } = await verifyJson(["--in", data, "--sig", good, "--test-pki", "--ocsp"]);
    assertEquals([code, report.revocation], [0, "unknown"]);
    assert(matches(report.problems, /not authorised for OCSP signing/), report.problems);
  } finally {
    await stop(responder);
  }
});

Deno.test("CRL: the revoked certificate is listed (exit 1), a good one is not (good)", async () => {
  const crl = `${PKI}/citizen-ca.crl.pem`;
  const revoked = await verifyJson(["--in", data, "--sig", await sign("revoked"), "--test-pki", "--crl", crl]);
  assertEquals([revoked.code, revoked.report.revocation], [1, "revoked"]);
  assert(
    matches(revoked.report.problems, /is revoked \(CRL .*citizen-ca\.crl\.pem, since 2025-06-01.*keyCompromise\)/),
  );
  const good = await verifyJson(["--in", data, "--sig", await sign("v4-sign"), "--test-pki", "--crl", crl]);
  assertEquals([good.code, good.report.revocation], [0, "good"]);
});

Deno.test("CRL: a CRL of another issuer or one not signed by the issuer leaves revocation unknown", async () => {
  const other = await verifyJson([
    "--in",
    data,
    "--sig",
    await sign("v3-sign"),
    "--test-pki",
    "--crl",
    `${PKI}/org-ca.crl.pem`,
  ]);
  assertEquals([other.code, other.report.revocation], [0, "unknown"]);
  // The citizen CA's CRL re-signed by another key: same issuer name, signature does not verify.
  const forged = `${work}/forged.crl.pem`;
  const crlDer = `${work}/crl.der`;
  await opensslOk(["crl", "-in", `${PKI}/citizen-ca.crl.pem`, "-outform", "DER", "-out", crlDer]);
  const bytes = Deno.readFileSync(crlDer);
  bytes[bytes.length - 3] ^= 0x01;
  Deno.writeFileSync(forged, bytes);
  const bad = await verifyJson(["--in", data, "--sig", await sign("revoked"), "--test-pki", "--crl", forged]);
  assertEquals(bad.report.revocation, "unknown");
  assert(matches(bad.report.problems, /signature does not verify/), bad.report.problems);
});

Deno.test("OCSP: a certificate the responder's index does not list is 'unknown', not good", async () => {
  // A signer certificate issued by the test citizen CA here and now, so it is in no index.
  const key = `${work}/stranger.key`;
  const cert = `${work}/stranger.pem`;
  const ext = `${work}/stranger.ext`;
  Deno.writeTextFileSync(
    ext,
    "keyUsage=critical,nonRepudiation\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:38080/\n",
  );
  for (
    const args of [
      ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key],
      ["req", "-new", "-key", key, "-subj", "/C=FI/CN=TUNTEMATON-TEST OLLI", "-out", `${work}/stranger.csr`],
      [
        "x509",
        "-req",
        "-in",
        `${work}/stranger.csr`,
        "-CA",
        `${PKI}/citizen-ca.pem`,
        "-CAkey",
        `${PKI}/citizen-ca.TEST-KEY.pem`,
        "-set_serial",
        "0x777",
        "-days",
        "2",
        "-extfile",
        ext,
        "-out",
        cert,
      ],
      cmsSignArgs({ cert, key }, data, `${work}/s.p7s`),
    ]
  ) {
    await opensslOk(args);
  }
  const responder = await startResponder();
  try {
    const { code, report } = await verifyJson(["--in", data, "--sig", `${work}/s.p7s`, "--test-pki", "--ocsp"]);
    assertEquals([code, report.chainValid, report.revocation], [0, true, "unknown"]);
    assert(matches(report.problems, /OCSP: the responder does not know the signer certificate \(serial 0777\)/));
  } finally {
    await stop(responder);
  }
});
