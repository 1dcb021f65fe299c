/**
 * A small BER-TLV reader for what cards answer: FCP templates, GET DATA PIN status and the PKCS#15 directory files.
 * Kept dependency-free on purpose: these structures are tiny and an ASN.1 library would cost start-up time on every
 * card command.
 *
 * @example
 * ```ts
 * import { parseTlv, findTag } from "./tlv.ts";
 * const fcp = parseTlv(new Uint8Array([0x62, 0x04, 0x81, 0x02, 0x06, 0x8a]));
 * findTag(fcp, 0x81)?.value; // Uint8Array [0x06, 0x8a]
 * ```
 * @module
 */

/** One BER-TLV element. `children` is set for constructed tags. */
export interface Tlv {
  /** The tag, all its bytes as one number (e.g. 0x62, 0xDF21, 0xA0). */
  tag: number;
  /** The value bytes. */
  value: Uint8Array;
  /** Nested elements when the tag is constructed (bit 6 of the first tag byte). */
  children?: Tlv[];
  /** The whole element, tag and length included. */
  raw: Uint8Array;
}

/**
 * Parses a sequence of BER-TLV elements. Padding bytes `00`/`FF` between elements are skipped; a truncated element
 * throws `RangeError`.
 *
 * @example
 * ```ts
 * import { parseTlv } from "./tlv.ts";
 * parseTlv(new Uint8Array([0x80, 0x01, 0x05]))[0].value[0]; // 5
 * ```
 */
export function parseTlv(bytes: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes[at] === 0x00 || bytes[at] === 0xff) {
      at++;
      continue;
    }
    const start = at;
    const first = bytes[at++];
    let tag = first;
    if ((first & 0x1f) === 0x1f) {
      let next: number;
      do {
        if (at >= bytes.length) throw new RangeError("truncated TLV tag");
        next = bytes[at++];
        tag = tag * 256 + next;
      } while (next & 0x80);
    }
    if (at >= bytes.length) throw new RangeError("truncated TLV length");
    let length = bytes[at++];
    if (length & 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 3 || at + count > bytes.length) throw new RangeError("bad TLV length");
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + bytes[at++];
    }
    if (at + length > bytes.length) throw new RangeError("truncated TLV value");
    const value = bytes.subarray(at, at + length);
    at += length;
    const element: Tlv = { tag, value, raw: bytes.subarray(start, at) };
    if (first & 0x20) element.children = parseTlv(value);
    out.push(element);
  }
  return out;
}

/**
 * The first element with the tag, searched depth first through constructed elements.
 *
 * @example
 * ```ts
 * import { findTag, parseTlv } from "./tlv.ts";
 * findTag(parseTlv(new Uint8Array([0x62, 0x03, 0x80, 0x01, 0x07])), 0x80)?.value[0]; // 7
 * ```
 */
export function findTag(elements: Tlv[], tag: number): Tlv | undefined {
  for (const element of elements) {
    if (element.tag === tag) return element;
    if (element.children) {
      const inner = findTag(element.children, tag);
      if (inner) return inner;
    }
  }
  return undefined;
}

/**
 * An unsigned big-endian integer from bytes (sizes, references, INTEGER values that are never negative here).
 *
 * @example
 * ```ts
 * import { uint } from "./tlv.ts";
 * uint(new Uint8Array([0x06, 0x8a])); // 1674
 * ```
 */
export function uint(bytes: Uint8Array): number {
  let value = 0;
  for (const b of bytes) value = value * 256 + b;
  return value;
}
