/**
 * Shapes of a card's raw signature: ECDSA `r‖s` as the card gives it or DER-encoded (`ECDSA-Sig-Value`, what CMS,
 * X.509 and `openssl dgst -verify` want), and the signature algorithm names of the SCS API (`SHA384withECDSA`).
 *
 * @example
 * ```ts
 * import { ecdsaRawToDer } from "./raw.ts";
 * const der = ecdsaRawToDer(new Uint8Array(96)); // SEQUENCE { INTEGER r, INTEGER s }
 * ```
 * @module
 */

import type { HashName, SignatureScheme } from "../card/card.ts";

/**
 * DER `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from the raw `r‖s` (two halves of equal length).
 *
 * @example
 * ```ts
 * import { ecdsaRawToDer } from "./raw.ts";
 * ecdsaRawToDer(new Uint8Array([1, 2])); // 30 06 02 01 01 02 01 02
 * ```
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new RangeError(`an ECDSA r‖s of ${raw.length} bytes`);
  const half = raw.length / 2;
  const r = derInteger(raw.subarray(0, half));
  const s = derInteger(raw.subarray(half));
  return derTlv(0x30, concat(r, s));
}

/**
 * The raw `r‖s` (each half `size` bytes) from a DER `ECDSA-Sig-Value`.
 *
 * @example
 * ```ts
 * import { ecdsaDerToRaw } from "./raw.ts";
 * ecdsaDerToRaw(new Uint8Array([0x30, 6, 2, 1, 1, 2, 1, 2]), 1); // 01 02
 * ```
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size * 2);
  let at = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  for (let i = 0; i < 2; i++) {
    if (der[at] !== 0x02) throw new RangeError("not an ECDSA-Sig-Value");
    const length = der[at + 1];
    let value = der.subarray(at + 2, at + 2 + length);
    while (value.length > size && value[0] === 0) value = value.subarray(1);
    out.set(value, (i + 1) * size - value.length);
    at += 2 + length;
  }
  return out;
}

/**
 * The SCS API name of a signature algorithm: `SHA256withECDSA`, `SHA256withRSA`, `SHA256withRSAandMGF1` (PSS).
 *
 * @example
 * ```ts
 * import { signatureAlgorithmName } from "./raw.ts";
 * signatureAlgorithmName("sha384", "ecdsa"); // "SHA384withECDSA"
 * ```
 */
export function signatureAlgorithmName(hash: HashName, scheme: SignatureScheme): string {
  const prefix = hash.toUpperCase();
  if (scheme === "ecdsa") return `${prefix}withECDSA`;
  if (scheme === "pss") return `${prefix}withRSAandMGF1`;
  return `${prefix}withRSA`;
}

/** A DER INTEGER of an unsigned big-endian value: leading zeros dropped, a zero added when the top bit is set. */
function derInteger(unsigned: Uint8Array): Uint8Array {
  let start = 0;
  while (start < unsigned.length - 1 && unsigned[start] === 0) start++;
  const value = unsigned.subarray(start);
  return derTlv(0x02, value[0] & 0x80 ? concat(new Uint8Array([0]), value) : value);
}

/**
 * One DER element: tag, definite length, value.
 *
 * @example
 * ```ts
 * import { derTlv } from "./raw.ts";
 * derTlv(0x04, new Uint8Array(3)); // 04 03 00 00 00
 * ```
 */
export function derTlv(tag: number, value: Uint8Array): Uint8Array {
  const length = value.length;
  const header = length < 0x80
    ? [tag, length]
    : length < 0x100
    ? [tag, 0x81, length]
    : length < 0x10000
    ? [tag, 0x82, length >> 8, length & 0xff]
    : length < 0x1000000
    ? [tag, 0x83, length >> 16, (length >> 8) & 0xff, length & 0xff]
    : [tag, 0x84, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  const out = new Uint8Array(header.length + length);
  out.set(header);
  out.set(value, header.length);
  return out;
}

/**
 * Concatenates byte arrays.
 *
 * @example
 * ```ts
 * import { concat } from "./raw.ts";
 * concat(new Uint8Array([1]), new Uint8Array([2])); // 01 02
 * ```
 */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
