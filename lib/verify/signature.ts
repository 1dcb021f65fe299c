/**
 * Checking one signature with a public key, by the algorithm identifier that names it: ECDSA (P-256, P-384,
 * P-521), RSA PKCS#1 v1.5 and RSASSA-PSS with its parameters. Uses node:crypto, which verifies synchronously and
 * takes DER SubjectPublicKeyInfo and DER ECDSA signatures as they come in certificates and CMS.
 *
 * @example
 * ```ts
 * import { checkSignature } from "./signature.ts";
 * const result = checkSignature(cert.spki, cert.asn.signatureAlgorithm, issuerTbs, signatureBytes);
 * if (!result.ok) console.log(result.reason);
 * ```
 * @module
 */

import { constants, createPublicKey, type KeyObject, verify } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { RsaSaPssParams } from "@peculiar/asn1-rsa";

/** node:crypto names of the digest algorithm OIDs kortti accepts. */
export const DIGEST_NAMES: Record<string, string> = {
  "1.3.14.3.2.26": "sha1",
  "2.16.840.1.101.3.4.2.4": "sha224",
  "2.16.840.1.101.3.4.2.1": "sha256",
  "2.16.840.1.101.3.4.2.2": "sha384",
  "2.16.840.1.101.3.4.2.3": "sha512",
};

const ECDSA_WITH: Record<string, string> = {
  "1.2.840.10045.4.3.1": "sha224",
  "1.2.840.10045.4.3.2": "sha256",
  "1.2.840.10045.4.3.3": "sha384",
  "1.2.840.10045.4.3.4": "sha512",
};
const RSA_WITH: Record<string, string> = {
  "1.2.840.113549.1.1.5": "sha1",
  "1.2.840.113549.1.1.14": "sha224",
  "1.2.840.113549.1.1.11": "sha256",
  "1.2.840.113549.1.1.12": "sha384",
  "1.2.840.113549.1.1.13": "sha512",
};
const ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const ID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
const ID_RSASSA_PSS = "1.2.840.113549.1.1.10";
const ID_MGF1 = "1.2.840.113549.1.1.8";

/** The outcome of one signature check; `reason` says why it failed. */
export type SignatureCheck = { ok: true; algorithm: string } | { ok: false; algorithm: string; reason: string };

/** How a signature algorithm is to be applied with node:crypto. */
export interface SignatureScheme {
  /** Readable name, e.g. `SHA384withECDSA`, `SHA256withRSA/PSS`. */
  name: string;
  kind: "ecdsa" | "rsa-pkcs1" | "rsa-pss";
  hash: string;
  saltLength?: number;
}

/**
 * Resolves a signature AlgorithmIdentifier. In CMS the signature algorithm may name only the key type
 * (`rsaEncryption`, `id-ecPublicKey`); then `digestFallback` (the SignerInfo's digest algorithm) gives the hash.
 *
 * @example
 * ```ts
 * import { signatureScheme } from "./signature.ts";
 * signatureScheme(signerInfo.signatureAlgorithm, "sha256"); // { name: "SHA256withRSA", kind: "rsa-pkcs1", hash: "sha256" }
 * ```
 */
export function signatureScheme(algorithm: AlgorithmIdentifier, digestFallback?: string): SignatureScheme | string {
  const oid = algorithm.algorithm;
  if (ECDSA_WITH[oid]) return ecdsa(ECDSA_WITH[oid]);
  if (RSA_WITH[oid]) return pkcs1(RSA_WITH[oid]);
  if (oid === ID_EC_PUBLIC_KEY && digestFallback) return ecdsa(digestFallback);
  if (oid === ID_RSA_ENCRYPTION && digestFallback) return pkcs1(digestFallback);
  if (oid === ID_RSASSA_PSS) return pssScheme(algorithm);
  return `the signature algorithm ${oid} is not supported`;
}

/**
 * Verifies `signature` over `data` with the key in `spki`.
 *
 * @example
 * ```ts
 * import { checkSignature } from "./signature.ts";
 * checkSignature(issuer.spki, cert.asn.signatureAlgorithm, cert.tbs, new Uint8Array(cert.asn.signatureValue));
 * ```
 */
export function checkSignature(
  spki: Uint8Array,
  algorithm: AlgorithmIdentifier | SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
  options: { digestFallback?: string; ecdsaEncoding?: "der" | "ieee-p1363" } = {},
): SignatureCheck {
  const scheme = "kind" in algorithm ? algorithm : signatureScheme(algorithm, options.digestFallback);
  if (typeof scheme === "string") return { ok: false, algorithm: "unknown", reason: scheme };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki as unknown as Buffer, format: "der", type: "spki" });
  } catch {
    return { ok: false, algorithm: scheme.name, reason: "the public key cannot be read" };
  }
  const keyType = key.asymmetricKeyType;
  if (scheme.kind === "ecdsa" && keyType !== "ec") {
    return { ok: false, algorithm: scheme.name, reason: `an ECDSA signature but a ${keyType} key` };
  }
  if (scheme.kind !== "ecdsa" && keyType !== "rsa" && keyType !== "rsa-pss") {
    return { ok: false, algorithm: scheme.name, reason: `an RSA signature but a ${keyType} key` };
  }
  let ok = false;
  try {
    ok = verify(
      scheme.hash,
      data,
      scheme.kind === "ecdsa"
        ? { key, dsaEncoding: options.ecdsaEncoding ?? "der" }
        : scheme.kind === "rsa-pss"
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength ?? 20 }
        : { key, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    ok = false;
  }
  return ok
    ? { ok: true, algorithm: scheme.name }
    : { ok: false, algorithm: scheme.name, reason: "the signature does not match" };
}

function ecdsa(hash: string): SignatureScheme {
  return { name: `${hash.toUpperCase()}withECDSA`, kind: "ecdsa", hash };
}

function pkcs1(hash: string): SignatureScheme {
  return { name: `${hash.toUpperCase()}withRSA`, kind: "rsa-pkcs1", hash };
}

/** RSASSA-PSS parameters (RFC 4055; absent fields mean SHA-1, MGF1-SHA-1, salt 20). */
function pssScheme(algorithm: AlgorithmIdentifier): SignatureScheme | string {
  let params: RsaSaPssParams;
  let mgfHash: string | undefined;
  try {
    params = algorithm.parameters ? AsnConvert.parse(algorithm.parameters, RsaSaPssParams) : new RsaSaPssParams();
    if (params.maskGenAlgorithm.algorithm !== ID_MGF1) return "RSASSA-PSS with a mask generation other than MGF1";
    mgfHash = params.maskGenAlgorithm.parameters
      ? DIGEST_NAMES[AsnConvert.parse(params.maskGenAlgorithm.parameters, AlgorithmIdentifier).algorithm]
      : "sha1";
  } catch {
    return "malformed RSASSA-PSS parameters";
  }
  const hash = DIGEST_NAMES[params.hashAlgorithm.algorithm];
  if (!hash) return `RSASSA-PSS with the unsupported hash ${params.hashAlgorithm.algorithm}`;
  // node:crypto uses the message hash for MGF1 too; a signature with another MGF1 hash cannot be checked here.
  if (mgfHash !== hash) return `RSASSA-PSS with MGF1-${mgfHash} and ${hash} (different hashes are not supported)`;
  return { name: `${hash.toUpperCase()}withRSA/PSS`, kind: "rsa-pss", hash, saltLength: params.saltLength };
}
