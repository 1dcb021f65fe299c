/**
 * Round trips: whatever `kortti sign` makes on the virtual card (v3, v4, org; detached and attached CMS, raw ECDSA
 * and RSA-PSS, the authentication key) verifies with `kortti verify --test-pki`, and fails once the content changes.
 */

import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";

const PKI = `${ROOT}/fixtures/pki`;
const work = Deno.makeTempDirSync({ prefix: "kortti-verify-rt-" });
const env = { XDG_DATA_HOME: `${work}/xdg`, HOME: work, KORTTI_TEST_PIN: "123456", KORTTI_TEST_AUTH_PIN: "1234" };
const data = `${work}/data`;
Deno.writeFileSync(data, crypto.getRandomValues(new Uint8Array(20_000)));
const changed = `${work}/changed`;
const bytes = Deno.readFileSync(data);
bytes[0] ^= 1;
Deno.writeFileSync(changed, bytes);
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

async function sign(profile: string, out: string, extra: string[] = [], pinVar = "KORTTI_TEST_PIN"): Promise<void> {
  const run = await runKortti(
    ["sign", `--virtual-card=${profile}`, "--in", data, "--out", out, "--pin-env", pinVar, "--quiet", ...extra],
    { env },
  );
  assertEquals(run.code, 0, run.stderr);
}

async function verify(args: string[]) {
  const run = await runKortti(["verify", ...args, "--test-pki", "--json"], { env });
  return { code: run.code, report: JSON.parse(run.stdout || "null"), stderr: run.stderr };
}

for (const profile of ["v3", "v4", "org"]) {
  Deno.test(`kortti sign --virtual-card=${profile} (detached CMS) verifies as a qualified signature`, async () => {
    const sig = `${work}/${profile}.p7s`;
    await sign(profile, sig);
    const ok = await verify(["--in", data, "--sig", sig]);
    assertEquals([ok.code, ok.report.valid, ok.report.signer.qualified, ok.report.problems], [0, true, true, []]);
    const bad = await verify(["--in", changed, "--sig", sig]);
    assertEquals([bad.code, bad.report.signatureValid], [1, false]);
  });
}

Deno.test("kortti sign --format cms (content inside) verifies from --in alone", async () => {
  const sig = `${work}/attached.p7m`;
  await sign("v4", sig, ["--format", "cms"]);
  const { code, report } = await verify(["--in", sig]);
  assertEquals([code, report.format, report.valid], [0, "cms", true]);
});

Deno.test("kortti sign --format raw (ECDSA r||s, and RSA-PSS with the v3 authentication key) verifies with --cert", async () => {
  const ec = `${work}/v4.sig`;
  await sign("v4", ec, ["--format", "raw"]);
  const a = await verify(["--in", data, "--sig", ec, "--cert", `${PKI}/v4-sign.pem`]);
  assertEquals([a.code, a.report.signatureAlgorithm], [0, "SHA384withECDSA"], a.stderr);
  // RSA-PSS is what the v3 card's authentication key does.
  const pss = `${work}/v3-auth.sig`;
  await sign("v3", pss, ["--format", "raw", "--key", "auth", "--rsa-padding", "pss"], "KORTTI_TEST_AUTH_PIN");
  const b = await verify(["--in", data, "--sig", pss, "--cert", `${PKI}/v3-auth.pem`]);
  assertEquals([b.code, b.report.signatureAlgorithm], [0, "SHA256withRSA/PSS"], b.stderr);
  const c = await verify(["--in", changed, "--sig", ec, "--cert", `${PKI}/v4-sign.pem`]);
  assertEquals(c.code, 1);
});

Deno.test("a signature with the authentication key verifies and is said not to be a qualified signature", async () => {
  const sig = `${work}/auth.p7s`;
  await sign("v4", sig, ["--key", "auth"], "KORTTI_TEST_AUTH_PIN");
  const run = await runKortti(["verify", "--in", data, "--sig", sig, "--test-pki"], { env });
  assertEquals(run.code, 0, run.stderr);
  assertMatch(run.stdout, /^valid: signed by MEIKÄLÄINEN-TEST MATTI 99999991C \(digitalSignature key, not a qualified/);
  assert(!run.stdout.includes("(qualified signature)"));
});
