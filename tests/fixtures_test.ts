/**
 * The committed TEST PKI (fixtures/pki/, made by fixtures/make.ts), checked with openssl: chains, key usages and
 * QC statements, names that say TEST, keys that match their certificates, the CRL revoking revoked.pem, an OCSP
 * responder on loopback answering good and revoked, and the virtual card's embedded copy in sync with the files.
 * @module
 */

import { EMBEDDED_KEYS } from "../lib/virtual-card/profiles.generated.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { openssl, type OpensslRun } from "./helpers/openssl.ts";

const PKI = new URL("../fixtures/pki/", import.meta.url).pathname;
const PROFILE_CERTS = ["v4-auth", "v4-sign", "v3-auth", "v3-sign", "org-auth", "org-sign"];

/** Runs openssl in fixtures/pki/, where the file names below are. */
function opensslInPki(args: string[]): Promise<OpensslRun> {
  return openssl(args, { cwd: PKI });
}

function issuerOf(name: string): string {
  return name.startsWith("org-") ? "org-ca.pem" : "citizen-ca.pem";
}

Deno.test("every certificate chains to the TEST root; expired.pem only at a time inside 2020", async () => {
  for (const name of [...PROFILE_CERTS, "revoked", "ocsp-responder"]) {
    const result = await opensslInPki([
      "verify",
      "-CAfile",
      "root-ca.pem",
      "-untrusted",
      issuerOf(name),
      `${name}.pem`,
    ]);
    assertEquals(result.code, 0, `${name}: ${result.output}`);
  }
  const now = await opensslInPki(["verify", "-CAfile", "root-ca.pem", "-untrusted", "citizen-ca.pem", "expired.pem"]);
  assertMatch(now.output, /certificate has expired/);
  const then = await opensslInPki([
    "verify",
    "-attime",
    String(Date.parse("2020-06-01T00:00:00Z") / 1000),
    "-CAfile",
    "root-ca.pem",
    "-untrusted",
    "citizen-ca.pem",
    "expired.pem",
  ]);
  assertEquals(then.code, 0, then.output);
});

Deno.test("authentication and signature certificates carry the DVV shape: key usages, EKUs, QC statements, AIA, CRL DP", async () => {
  for (const name of PROFILE_CERTS) {
    const { output } = await opensslInPki(["x509", "-in", `${name}.pem`, "-noout", "-text", "-nameopt", "utf8"]);
    assertMatch(output, /Subject: C ?= ?FI, .*serialNumber ?= ?\d{8}[A-Z], GN ?= ?\w+, SN ?= ?[^,]*TEST, CN ?= ?/);
    assertMatch(output, /Issuer: .*TEST/);
    assertMatch(output, /Not Before: Jan {2}1 00:00:00 2025 GMT[\s\S]*Not After : Jan {2}1 00:00:00 2045 GMT/);
    assertMatch(output, /OCSP - URI:http:\/\/127\.0\.0\.1:38080\//);
    assertMatch(output, /URI:http:\/\/127\.0\.0\.1:38081\/(citizen|org)-ca\.crl/);
    assertMatch(output, /Subject Key Identifier[\s\S]*Authority Key Identifier/);
    if (name.endsWith("-auth")) {
      assertMatch(
        output,
        /Key Usage: critical\s+Digital Signature, (Key Agreement|Key Encipherment, Data Encipherment)/,
      );
      assertMatch(output, /TLS Web Client Authentication, E-mail Protection/);
    } else {
      assertMatch(output, /Key Usage: critical\s+Non Repudiation\n/);
      // QCStatements: QcCompliance, QcSSCD, QcType esign
      const der = await opensslInPki(["asn1parse", "-in", `${name}.pem`]);
      assertMatch(
        der.output,
        /qcStatements\s*\n.*\[HEX DUMP\]:30293008060604008E4601013008060604008E4601043013060604008E4601063009060704008E46010601/,
      );
    }
  }
  const kinds: Record<string, RegExp> = {
    "v4-auth": /NIST CURVE: P-384/,
    "v4-sign": /NIST CURVE: P-384/,
    "v3-auth": /Public-Key: \(2048 bit\)/,
    "v3-sign": /NIST CURVE: P-256/,
    "org-auth": /Public-Key: \(2048 bit\)/,
    "org-sign": /Public-Key: \(2048 bit\)/,
  };
  for (const [name, pattern] of Object.entries(kinds)) {
    assertMatch((await opensslInPki(["x509", "-in", `${name}.pem`, "-noout", "-text"])).output, pattern, name);
  }
});

Deno.test("each TEST key matches its certificate", async () => {
  const names = [...PROFILE_CERTS, "revoked", "expired", "ocsp-responder", "root-ca", "citizen-ca", "org-ca"];
  for (const name of names) {
    const fromCert = await opensslInPki(["x509", "-in", `${name}.pem`, "-pubkey", "-noout"]);
    const fromKey = await opensslInPki(["pkey", "-in", `${name}.TEST-KEY.pem`, "-pubout"]);
    assertEquals(fromKey.code, 0, fromKey.output);
    assertEquals(fromKey.output, fromCert.output, name);
  }
});

Deno.test("the CRL of the citizen CA revokes revoked.pem and nothing else", async () => {
  const args = ["verify", "-crl_check", "-CRLfile", "citizen-ca.crl.pem", "-CAfile", "root-ca.pem", "-untrusted"];
  const revoked = await opensslInPki([...args, "citizen-ca.pem", "revoked.pem"]);
  assertMatch(revoked.output, /certificate revoked/);
  const good = await opensslInPki([...args, "citizen-ca.pem", "v4-sign.pem"]);
  assertEquals(good.code, 0, good.output);
  const crl = await opensslInPki(["crl", "-in", "citizen-ca.crl.pem", "-noout", "-text"]);
  assertMatch(crl.output, /Next Update: Jan {2}1 00:00:00 2045 GMT/);
});

Deno.test("openssl ocsp with the committed index and responder key answers good and revoked on loopback", async () => {
  if (Deno.env.get("KORTTI_TEST_STACK") !== "1") {
    Deno.stderr.writeSync(
      new TextEncoder().encode("OCSP responder test skipped: binds 127.0.0.1:38080, only in tests/run.sh\n"),
    );
    return;
  }
  const responder = new Deno.Command("openssl", {
    args: [
      "ocsp",
      "-index",
      "ocsp-index.txt",
      "-CA",
      "citizen-ca.pem",
      "-rsigner",
      "ocsp-responder.pem",
      "-rkey",
      "ocsp-responder.TEST-KEY.pem",
      "-port",
      "38080",
      "-nmin",
      "5",
    ],
    cwd: PKI,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    const ask = async (name: string) => {
      for (let attempt = 0;; attempt++) {
        const result = await opensslInPki([
          "ocsp",
          "-issuer",
          "citizen-ca.pem",
          "-cert",
          `${name}.pem`,
          "-url",
          "http://127.0.0.1:38080/",
          "-CAfile",
          "root-ca.pem",
          "-verify_other",
          "citizen-ca.pem",
        ]);
        if (result.code === 0 || attempt > 20) return result.output;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const good = await ask("v4-sign");
    assertMatch(good, /Response verify OK/);
    assertMatch(good, /v4-sign\.pem: good/);
    assertMatch(await ask("revoked"), /revoked\.pem: revoked/);
  } finally {
    responder.kill("SIGTERM");
    await responder.status;
  }
});

Deno.test("the virtual card embeds exactly the committed certificates and keys (profiles.generated.ts in sync)", async () => {
  const body = (file: string) =>
    Deno.readTextFileSync(`${PKI}${file}`).replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  for (const name of PROFILE_CERTS) {
    assertEquals(EMBEDDED_KEYS[name].certificate, body(`${name}.pem`), `${name} certificate`);
    assertEquals(EMBEDDED_KEYS[name].privateKeyPkcs8, body(`${name}.TEST-KEY.pem`), `${name} key`);
  }
  const files = [...Deno.readDirSync(PKI)].map((e) => e.name);
  assert(files.filter((f) => f.includes("KEY")).every((f) => f.endsWith(".TEST-KEY.pem")), "keys say TEST-KEY");
  assert(files.includes("README.md"));
  await Promise.resolve();
});
