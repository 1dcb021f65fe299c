/**
 * Raw signatures (`kortti sign --format raw`): a bare PKCS#1 v1.5, RSASSA-PSS or ECDSA signature (IEEE P1363 `r||s`
 * or DER) over a file, checked with the public key of the certificate given with `--cert`. A raw signature does not
 * name its hash, so kortti finds it: RSA PKCS#1 carries it in its DigestInfo; for PSS and ECDSA the file is hashed
 * once for every candidate (SHA-256, SHA-384, SHA-512) in the same pass.
 *
 * @example
 * ```ts
 * import { checkRawSignature } from "./raw.ts";
 * const check = checkRawSignature({ path: "contract.pdf" }, Deno.readFileSync("contract.sig"), signerCert);
 * console.log(check.signatureValid, check.signatureAlgorithm);
 * ```
 * @module
 */

import { constants, createPublicKey, createVerify, type KeyObject, publicDecrypt, type Verify } from "node:crypto";
import * as asn1js from "asn1js";
import type { CertInfo } from "./cert.ts";
import { DIGEST_NAMES } from "./signature.ts";
import { streamFile } from "./hash.ts";

/** The content a raw signature covers: a file (streamed) or bytes in memory. */
export type RawContent = { path: string } | { bytes: Uint8Array };

/** The outcome of a raw signature check. */
export interface RawCheck {
  signatureValid: boolean;
  /** The scheme that verified, e.g. `SHA256withECDSA`, or the one tried last. */
  signatureAlgorithm?: string;
  problems: string[];
}

const CANDIDATE_HASHES = ["sha256", "sha384", "sha512"];

interface Attempt {
  name: string;
  verifier: Verify;
  options: Parameters<Verify["verify"]>[0];
}

/**
 * Checks a raw signature over `content` with the key of `cert`.
 *
 * @example
 * ```ts
 * import { checkRawSignature } from "./raw.ts";
 * checkRawSignature({ bytes: new TextEncoder().encode("hi") }, signature, cert).signatureValid;
 * ```
 */
export function checkRawSignature(content: RawContent, signature: Uint8Array, cert: CertInfo): RawCheck {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: cert.spki as unknown as Buffer, format: "der", type: "spki" });
  } catch {
    return { signatureValid: false, problems: ["the public key of --cert cannot be read"] };
  }
  const attempts = key.asymmetricKeyType === "ec"
    ? ecdsaAttempts(key, signature)
    : key.asymmetricKeyType === "rsa" || key.asymmetricKeyType === "rsa-pss"
    ? rsaAttempts(key, signature)
    : [];
  if (attempts.length === 0) {
    return { signatureValid: false, problems: [`keys of type ${key.asymmetricKeyType} are not supported`] };
  }
  const feed = (block: Uint8Array) => {
    for (const attempt of attempts) attempt.verifier.update(block);
  };
  if ("path" in content) streamFile(content.path, feed);
  else feed(content.bytes);
  for (const attempt of attempts) {
    let ok = false;
    try {
      ok = attempt.verifier.verify(attempt.options, signature);
    } catch {
      ok = false;
    }
    if (ok) return { signatureValid: true, signatureAlgorithm: attempt.name, problems: [] };
  }
  return {
    signatureValid: false,
    signatureAlgorithm: attempts.length === 1 ? attempts[0].name : undefined,
    problems: [
      "the raw signature does not verify with the key of --cert over this content (the file or the signature was " +
      "changed, or they do not belong together)",
    ],
  };
}

function ecdsaAttempts(key: KeyObject, signature: Uint8Array): Attempt[] {
  const encoding = isDerEcdsaSignature(signature) ? "der" : "ieee-p1363";
  return CANDIDATE_HASHES.map((hash) => ({
    name: `${hash.toUpperCase()}withECDSA`,
    verifier: createVerify(hash),
    options: { key, dsaEncoding: encoding },
  }));
}

function rsaAttempts(key: KeyObject, signature: Uint8Array): Attempt[] {
  const pkcs1Hash = pkcs1DigestAlgorithm(key, signature);
  if (pkcs1Hash) {
    return [{
      name: `${pkcs1Hash.toUpperCase()}withRSA`,
      verifier: createVerify(pkcs1Hash),
      options: { key, padding: constants.RSA_PKCS1_PADDING },
    }];
  }
  return CANDIDATE_HASHES.map((hash) => ({
    name: `${hash.toUpperCase()}withRSA/PSS`,
    verifier: createVerify(hash),
    options: { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
  }));
}

/** The hash named in the DigestInfo of a PKCS#1 v1.5 signature; undefined when it is not one (e.g. PSS). */
function pkcs1DigestAlgorithm(key: KeyObject, signature: Uint8Array): string | undefined {
  try {
    const digestInfo = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    const parsed = asn1js.fromBER(new Uint8Array(digestInfo));
    const algorithm = (parsed.result as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
    const oid = (algorithm.valueBlock.value[0] as asn1js.ObjectIdentifier).valueBlock.toString();
    return DIGEST_NAMES[oid];
  } catch {
    return undefined;
  }
}

/** Whether the bytes are exactly one DER `SEQUENCE { INTEGER r, INTEGER s }`. */
function isDerEcdsaSignature(signature: Uint8Array): boolean {
  if (signature[0] !== 0x30) return false;
  const parsed = asn1js.fromBER(signature);
  if (parsed.offset !== signature.length || !(parsed.result instanceof asn1js.Sequence)) return false;
  const items = parsed.result.valueBlock.value;
  return items.length === 2 && items.every((item) => item instanceof asn1js.Integer);
}
