/**
 * Every profile × key × format × hash (× RSA padding) signed through the in-process virtual card with the signing
 * core, and checked by real openssl: `cms -verify` against the test root and intermediates, `dgst -verify` for raw.
 */
import { assert, assertEquals } from "./helpers/assert.ts";
import { openCard } from "../lib/open.ts";
import { type SignFormat, signWithCard } from "../lib/sign/mod.ts";
import type { HashName, KeyName } from "../lib/card/card.ts";
import { cmsVerifyArgs, openssl } from "./helpers/openssl.ts";

const PKI = new URL("../fixtures/pki/", import.meta.url).pathname;
const PINS: Record<KeyName, string> = { auth: "1234", sign: "123456" };
const HASHES: HashName[] = ["sha256", "sha384", "sha512"];
const FORMATS: SignFormat[] = ["raw", "cms-detached", "cms", "cms-pades"];

const dir = Deno.makeTempDirSync({ prefix: "kortti-sign-formats-" });
const data = `${dir}/data`;
Deno.writeFileSync(data, new TextEncoder().encode("kortti signs this line\n".repeat(3000)));
const caFile = `${dir}/cas.pem`;
Deno.writeTextFileSync(
  caFile,
  ["root-ca.pem", "citizen-ca.pem", "org-ca.pem"].map((f) => Deno.readTextFileSync(PKI + f)).join(""),
);

async function checkOne(
  profile: string,
  key: KeyName,
  format: SignFormat,
  hash: HashName,
  rsaPadding: "pkcs1" | "pss" | undefined,
): Promise<string | undefined> {
  const card = await openCard({ virtualCard: profile as "v3" });
  const name = `${profile}-${key}-${format}-${hash}-${rsaPadding ?? "ec"}`;
  try {
    const result = await signWithCard({
      card,
      key,
      format,
      hash,
      rsaPadding,
      encoding: "der",
      // Embedded content both ways: bytes in memory (sha384) and read from the file into place (the others).
      input: format === "cms" && hash === "sha384" ? { bytes: Deno.readFileSync(data) } : { path: data },
      pin: () => Promise.resolve(new TextEncoder().encode(PINS[key])),
    });
    const out = `${dir}/${name}`;
    Deno.writeFileSync(out, result.output);
    const expected = `${hash.toUpperCase()}with${rsaPadding ? rsaPadding === "pss" ? "RSAandMGF1" : "RSA" : "ECDSA"}`;
    if (result.signatureAlgorithm !== expected) return `${name}: signatureAlgorithm ${result.signatureAlgorithm}`;
    if (result.chain.length !== 3) return `${name}: chain of ${result.chain.length}`;
    if (format === "raw") {
      const cert = `${dir}/${name}.crt`;
      Deno.writeFileSync(cert, result.chain[0]);
      const pub = `${dir}/${name}.pub`;
      await openssl(["x509", "-inform", "DER", "-in", cert, "-pubkey", "-noout", "-out", pub]);
      const pss = rsaPadding === "pss" ? ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"] : [];
      const v = await openssl(["dgst", `-${hash}`, ...pss, "-verify", pub, "-signature", out, data]);
      return v.success && v.output.includes("Verified OK") ? undefined : `${name}: ${v.output.trim()}`;
    }
    const content = format === "cms" ? undefined : data;
    const v = await openssl(cmsVerifyArgs(out, caFile, { content, out: `${out}.content` }));
    if (!v.success) return `${name}: ${v.output.trim()}`;
    if (format === "cms") assertEquals(Deno.readFileSync(`${out}.content`), Deno.readFileSync(data));
    const printed = await openssl(["cms", "-cmsout", "-print", "-inform", "DER", "-in", out]);
    const hasTime = printed.output.includes("signingTime");
    if (hasTime === (format === "cms-pades")) return `${name}: signing-time ${hasTime ? "present" : "missing"}`;
    if (!printed.output.includes("signingCertificateV2")) return `${name}: no signing-certificate-v2`;
    return undefined;
  } catch (error) {
    return `${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : error}`;
  } finally {
    await card.close();
  }
}

const KEYS: { profile: string; key: KeyName; paddings: ("pkcs1" | "pss" | undefined)[] }[] = [
  { profile: "v4", key: "sign", paddings: [undefined] },
  { profile: "v4", key: "auth", paddings: [undefined] },
  { profile: "v3", key: "sign", paddings: [undefined] },
  { profile: "v3", key: "auth", paddings: ["pss"] },
  { profile: "org", key: "sign", paddings: ["pkcs1"] },
  { profile: "org", key: "auth", paddings: ["pkcs1"] },
];

for (const { profile, key, paddings } of KEYS) {
  Deno.test(`${profile} ${key} key: every format and hash verifies with openssl`, async () => {
    const failures: string[] = [];
    for (const format of FORMATS) {
      for (const hash of HASHES) {
        for (const padding of paddings) {
          const failure = await checkOne(profile, key, format, hash, padding);
          if (failure) failures.push(failure);
        }
      }
    }
    assert(failures.length === 0, failures.join("\n"));
  });
}

Deno.test("hash defaults follow the key: P-384 signs with SHA-384, P-256 and RSA with SHA-256", async () => {
  for (const [profile, key, hash] of [["v4", "sign", "sha384"], ["v3", "sign", "sha256"], ["org", "sign", "sha256"]]) {
    const card = await openCard({ virtualCard: profile as "v4" });
    try {
      const result = await signWithCard({
        card,
        key: key as KeyName,
        format: "raw",
        input: { bytes: new Uint8Array([1, 2, 3]) },
        pin: () => Promise.resolve(new TextEncoder().encode("123456")),
      });
      assertEquals(result.hash, hash);
      if (profile !== "org") assertEquals(result.output.length, profile === "v4" ? 96 : 64, "ECDSA raw r‖s");
    } finally {
      await card.close();
    }
  }
});

Deno.test({
  name: "cleanup of the format matrix's files",
  fn: () => Deno.removeSync(dir, { recursive: true }),
});
