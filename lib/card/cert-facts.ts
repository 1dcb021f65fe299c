/**
 * The few facts of a DER certificate the card layer needs at sign time (the holder's name for the PIN prompt, the
 * key's algorithm for the default hash), read with the small TLV reader instead of the X.509 library so that
 * signing never pays for loading it.
 *
 * @example
 * ```ts
 * import { certificateFacts } from "./cert-facts.ts";
 * declare const der: Uint8Array;
 * const facts = certificateFacts(der); // { subjectCommonName: "SPECIMEN ...", keyAlgorithm: "EC P-384", ... }
 * ```
 * @module
 */

import { parseTlv, type Tlv } from "./tlv.ts";
import type { HashName } from "./card.ts";

/** What `certificateFacts` finds. */
export interface CertificateFacts {
  /** The subject's CN, if any. */
  subjectCommonName?: string;
  /** `EC P-256`, `EC P-384`, `EC P-521`, `RSA 2048`..., or `unknown`. */
  keyAlgorithm: string;
  /** `ec`, `rsa` or `unknown`. */
  keyType: "ec" | "rsa" | "unknown";
  /** EC curve name (`P-384`) or undefined. */
  curve?: string;
  /** RSA modulus size in bits, or undefined. */
  rsaBits?: number;
}

const OID_CN = "550403";
const OID_EC_PUBLIC_KEY = "2A8648CE3D0201";
const OID_RSA = "2A864886F70D010101";
const OID_RSA_PSS = "2A864886F70D01010A";
const CURVES: Record<string, string> = {
  "2A8648CE3D030107": "P-256",
  "2B81040022": "P-384",
  "2B81040023": "P-521",
};

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out.toUpperCase();
}

/** The length of the first DER element in `bytes` (a certificate file is often padded after it). */
export function derLength(bytes: Uint8Array): number {
  if (bytes.length < 2) return bytes.length;
  let length = bytes[1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[2 + i];
    header += count;
  }
  return Math.min(bytes.length, header + length);
}

/** Tbs certificate fields, version tag skipped: serial, signature, issuer, validity, subject, spki. */
function tbsFields(der: Uint8Array): Tlv[] {
  const cert = parseTlv(der.subarray(0, derLength(der)))[0];
  const tbs = cert?.children?.[0];
  if (!tbs?.children) throw new RangeError("not a certificate");
  return tbs.children[0].tag === 0xa0 ? tbs.children.slice(1) : tbs.children;
}

/** The CN of an X.501 Name element (the last CN when there are several, as the most specific). */
export function commonNameOf(name: Tlv): string | undefined {
  let found: string | undefined;
  for (const rdn of name.children ?? []) {
    for (const attribute of rdn.children ?? []) {
      const [oid, value] = attribute.children ?? [];
      if (oid && value && hex(oid.value) === OID_CN) {
        found = value.tag === 0x1e ? decodeBmp(value.value) : new TextDecoder().decode(value.value);
      }
    }
  }
  return found;
}

function decodeBmp(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
  return out;
}

/**
 * Subject CN and key algorithm of a DER certificate. Throws `RangeError` when the bytes are not a certificate.
 *
 * @example
 * ```ts
 * import { certificateFacts } from "./cert-facts.ts";
 * declare const der: Uint8Array;
 * if (certificateFacts(der).curve === "P-384") console.log("sha384 by default");
 * ```
 */
export function certificateFacts(der: Uint8Array): CertificateFacts {
  const fields = tbsFields(der);
  const subject = fields[4];
  const spki = fields[5];
  const facts: CertificateFacts = { keyAlgorithm: "unknown", keyType: "unknown" };
  facts.subjectCommonName = subject ? commonNameOf(subject) : undefined;
  const algorithm = spki?.children?.[0]?.children;
  const oid = algorithm?.[0] ? hex(algorithm[0].value) : "";
  if (oid === OID_EC_PUBLIC_KEY) {
    facts.keyType = "ec";
    facts.curve = algorithm?.[1] ? CURVES[hex(algorithm[1].value)] : undefined;
    facts.keyAlgorithm = `EC ${facts.curve ?? "unknown curve"}`;
  } else if (oid === OID_RSA || oid === OID_RSA_PSS) {
    facts.keyType = "rsa";
    const bitString = spki?.children?.[1]?.value;
    if (bitString) {
      const modulus = parseTlv(bitString.subarray(1))[0]?.children?.[0]?.value;
      if (modulus) {
        let at = 0;
        while (at < modulus.length && modulus[at] === 0) at++;
        const top = modulus[at] ?? 0;
        facts.rsaBits = (modulus.length - at - 1) * 8 + (top === 0 ? 0 : Math.floor(Math.log2(top)) + 1);
      }
    }
    facts.keyAlgorithm = `RSA ${facts.rsaBits ?? "unknown size"}`;
  }
  return facts;
}

/**
 * The hash that fits the certificate's key by default: SHA-384 for P-384, SHA-512 for P-521, else SHA-256. A default
 * only: the caller (`--hash`) decides.
 *
 * @example
 * ```ts
 * import { defaultHashOf } from "./cert-facts.ts";
 * declare const der: Uint8Array;
 * defaultHashOf(der); // "sha384" for a FinEID v4 certificate
 * ```
 */
export function defaultHashOf(der: Uint8Array): HashName {
  const curve = certificateFacts(der).curve;
  return curve === "P-384" ? "sha384" : curve === "P-521" ? "sha512" : "sha256";
}
