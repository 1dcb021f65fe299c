/**
 * The virtual card's PKCS#15 (ISO/IEC 7816-15) files, DER-encoded with asn1js: EF.DIR's application template, EF.ODF,
 * EF.TokenInfo, the AODF (PINs), the PrKDF (keys) and the CDF (certificates), so generic PKCS#15 readers such as
 * OpenSC's `pkcs15-tool` find the certificates, keys and PINs of the card.
 *
 * @example
 * ```ts
 * import { encodeTokenInfo } from "./pkcs15.ts";
 * const der = encodeTokenInfo({ serialNumber: "999000401", manufacturer: "kortti", label: "TEST" });
 * console.log(der[0] === 0x30); // true
 * ```
 * @module
 */

import * as asn1js from "asn1js";

/** A file path from the MF, as FIDs (`["3F00", "5015", "4401"]`). */
export type Path = string[];

function pathBytes(path: Path): Uint8Array {
  const out = new Uint8Array(path.length * 2);
  path.forEach((fid, i) => {
    const v = parseInt(fid, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function der(value: asn1js.AsnType): Uint8Array {
  return new Uint8Array(value.toBER());
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Path ::= SEQUENCE { path OCTET STRING, ... } */
function pathValue(path: Path): asn1js.Sequence {
  return new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: pathBytes(path) })] });
}

/** A named BIT STRING with the given bit numbers set (bit 0 is the most significant bit of the first byte). */
function bitString(bits: number[]): asn1js.BitString {
  const highest = bits.length ? Math.max(...bits) : 0;
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  const unused = bits.length ? 7 - (highest % 8) : 0;
  return new asn1js.BitString({ valueHex: bytes, unusedBits: unused });
}

function utf8(text: string): asn1js.Utf8String {
  return new asn1js.Utf8String({ value: text });
}

function octets(bytes: Uint8Array): asn1js.OctetString {
  return new asn1js.OctetString({ valueHex: bytes });
}

function integer(value: number): asn1js.Integer {
  return new asn1js.Integer({ value });
}

/** `[n]` EXPLICIT around one value. */
function explicit(tag: number, value: asn1js.AsnType): asn1js.Constructed {
  return new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: tag }, value: [value] });
}

/** Replaces a DER value's tag byte (IMPLICIT tagging of a primitive or constructed value). */
function implicitTag(tagByte: number, encoded: Uint8Array): Uint8Array {
  const out = encoded.slice();
  out[0] = tagByte;
  return out;
}

/** An element that is already DER, for composing with asn1js values. */
function raw(encoded: Uint8Array): asn1js.AsnType {
  return asn1js.fromBER(encoded as Uint8Array<ArrayBuffer>).result;
}

/**
 * EF.DIR (2F00) content: one application template `61 { 4F AID, 50 label, 51 path }`.
 *
 * @example
 * ```ts
 * import { encodeDirRecord } from "./pkcs15.ts";
 * encodeDirRecord(new Uint8Array([0xa0, 0, 0, 0, 0x63]), "PKCS#15", ["3F00", "5015"]);
 * ```
 */
export function encodeDirRecord(aid: Uint8Array, label: string, path: Path): Uint8Array {
  const labelBytes = new TextEncoder().encode(label);
  const tlv = (tag: number, value: Uint8Array) => concat([new Uint8Array([tag, value.length]), value]);
  const body = concat([tlv(0x4f, aid), tlv(0x50, labelBytes), tlv(0x51, pathBytes(path))]);
  return tlv(0x61, body);
}

/** Where the ODF points. */
export interface OdfEntries {
  privateKeys: Path;
  certificates: Path;
  authObjects: Path;
}

/**
 * EF.ODF (5031): `[0]` private keys, `[4]` certificates, `[8]` authentication objects, each a Path.
 *
 * @example
 * ```ts
 * import { encodeOdf } from "./pkcs15.ts";
 * encodeOdf({ privateKeys: ["3F00", "5015", "4402"], certificates: ["3F00", "5015", "4403"],
 *   authObjects: ["3F00", "5015", "4401"] });
 * ```
 */
export function encodeOdf(entries: OdfEntries): Uint8Array {
  return concat([
    der(explicit(0, pathValue(entries.privateKeys))),
    der(explicit(4, pathValue(entries.certificates))),
    der(explicit(8, pathValue(entries.authObjects))),
  ]);
}

/** What TokenInfo says. */
export interface TokenInfoFields {
  /** The card (document) number, ASCII digits. */
  serialNumber: string;
  manufacturer: string;
  label: string;
}

/**
 * EF.TokenInfo (5032): `SEQUENCE { version 0, serialNumber, manufacturerID, [0] label, tokenflags }`.
 *
 * @example
 * ```ts
 * import { encodeTokenInfo } from "./pkcs15.ts";
 * encodeTokenInfo({ serialNumber: "999000401", manufacturer: "kortti", label: "TEST" });
 * ```
 */
export function encodeTokenInfo(fields: TokenInfoFields): Uint8Array {
  const label = implicitTag(0x80, der(utf8(fields.label)));
  return der(
    new asn1js.Sequence({
      value: [
        integer(0),
        octets(new TextEncoder().encode(fields.serialNumber)),
        utf8(fields.manufacturer),
        raw(label),
        bitString([0]), // readonly
      ],
    }),
  );
}

/** A PIN object of the AODF. */
export interface PinObject {
  label: string;
  /** authId, referenced by the keys' CommonObjectAttributes. */
  authId: number;
  /** VERIFY P2. */
  reference: number;
  minLength: number;
  maxLength: number;
  /** Padded PINs: stored length and pad byte (00). */
  paddedLength?: number;
  /** The PUK. */
  unblocking: boolean;
  /** The DF the PIN belongs to. */
  path: Path;
}

/**
 * The AODF: one PinObject per PIN: `SEQUENCE { CommonObjectAttributes, CommonAuthenticationObjectAttributes,
 * [1] PinAttributes }`.
 *
 * @example
 * ```ts
 * import { encodeAodf } from "./pkcs15.ts";
 * encodeAodf([{ label: "PIN", authId: 1, reference: 0x11, minLength: 4, maxLength: 12, paddedLength: 12,
 *   unblocking: false, path: ["3F00"] }]);
 * ```
 */
export function encodeAodf(pins: PinObject[]): Uint8Array {
  return concat(pins.map((pin) => {
    // pinFlags: case-sensitive(0)? no; local(1), initialized(4), needs-padding(5), unblockingPin(6)
    const flags = [4];
    if (pin.paddedLength) flags.push(5);
    if (pin.unblocking) flags.push(6);
    const attributes: asn1js.AsnType[] = [
      bitString(flags),
      new asn1js.Enumerated({ value: 1 }), // ascii-numeric
      integer(pin.minLength),
      integer(pin.paddedLength ?? pin.maxLength),
      integer(pin.maxLength),
      raw(implicitTag(0x80, der(integer(pin.reference)))),
    ];
    if (pin.paddedLength) attributes.push(octets(new Uint8Array([0x00])));
    attributes.push(pathValue(pin.path));
    return der(
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [utf8(pin.label), bitString([1])] }), // flags: modifiable
          new asn1js.Sequence({ value: [octets(new Uint8Array([pin.authId]))] }),
          explicit(1, new asn1js.Sequence({ value: attributes })),
        ],
      }),
    );
  }));
}

/** A private key object of the PrKDF. */
export interface PrivateKeyObject {
  label: string;
  /** iD, shared with its certificate. */
  id: number;
  /** authId of the PIN that unlocks it. */
  authId: number;
  /** MSE:SET `84 01 <reference>`. */
  reference: number;
  /** `auth` keys sign (and decrypt or derive); `sign` keys are non-repudiation keys. */
  usage: "auth" | "sign";
  type: "rsa" | "ec";
  /** RSA modulus length, or the EC field length, in bits. */
  bits: number;
  /** The DF the key lives in. */
  path: Path;
}

/**
 * The PrKDF: RSA keys as `SEQUENCE` (privateRSAKey), EC keys as `[0]` (privateECKey), each
 * `{ CommonObjectAttributes, CommonKeyAttributes, [1] type attributes }`.
 *
 * @example
 * ```ts
 * import { encodePrkdf } from "./pkcs15.ts";
 * encodePrkdf([{ label: "key", id: 1, authId: 1, reference: 1, usage: "auth", type: "ec", bits: 384,
 *   path: ["3F00"] }]);
 * ```
 */
export function encodePrkdf(keys: PrivateKeyObject[]): Uint8Array {
  return concat(keys.map((key) => {
    // KeyUsageFlags: encrypt(0) decrypt(1) sign(2) signRecover(3) wrap(4) unwrap(5) verify(6) verifyRecover(7)
    // derive(8) nonRepudiation(9)
    const usage = key.usage === "sign" ? [9] : key.type === "rsa" ? [1, 2, 3] : [2, 8];
    // KeyAccessFlags: sensitive(0) extractable(1) alwaysSensitive(2) neverExtractable(3) local(4)
    const common = new asn1js.Sequence({
      value: [
        utf8(key.label),
        bitString([0]), // private
        octets(new Uint8Array([key.authId])),
      ],
    });
    const commonKey = new asn1js.Sequence({
      value: [
        octets(new Uint8Array([key.id])),
        bitString(usage),
        bitString([0, 2, 3, 4]),
        integer(key.reference),
      ],
    });
    // PrivateRSAKeyAttributes { value, modulusLength } and PrivateECKeyAttributes { value, field length }
    const typeAttributes = new asn1js.Sequence({ value: [pathValue(key.path), integer(key.bits)] });
    const object = [common, commonKey, explicit(1, typeAttributes)];
    return key.type === "rsa"
      ? der(new asn1js.Sequence({ value: object }))
      : der(new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: object }));
  }));
}

/** A certificate object of the CDF. */
export interface CertificateObject {
  label: string;
  /** iD, shared with its private key. */
  id: number;
  /** The certificate file. */
  path: Path;
  /** Its size, for the Path's length. */
  length: number;
}

/**
 * The CDF: X.509 certificate objects `SEQUENCE { CommonObjectAttributes, CommonCertificateAttributes,
 * [1] X509CertificateAttributes { value Path } }`.
 *
 * @example
 * ```ts
 * import { encodeCdf } from "./pkcs15.ts";
 * encodeCdf([{ label: "cert", id: 1, path: ["3F00", "4331"], length: 1200 }]);
 * ```
 */
export function encodeCdf(certificates: CertificateObject[]): Uint8Array {
  return concat(certificates.map((cert) =>
    der(
      new asn1js.Sequence({
        value: [
          new asn1js.Sequence({ value: [utf8(cert.label)] }),
          new asn1js.Sequence({ value: [octets(new Uint8Array([cert.id]))] }),
          explicit(
            1,
            new asn1js.Sequence({
              value: [
                new asn1js.Sequence({
                  value: [
                    octets(pathBytes(cert.path)),
                    integer(0),
                    raw(implicitTag(0x80, der(integer(cert.length)))),
                  ],
                }),
              ],
            }),
          ),
        ],
      }),
    )
  ));
}
