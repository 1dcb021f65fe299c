/**
 * The PKCS#15 directory files a generic reader needs (PKCS #15 v1.1): EF.ODF (where the other directories are),
 * PrKDF (private keys: id, usage, key reference, the PIN's auth id), CDF (certificates: id, label, path) and AODF
 * (PINs: auth id, flags, lengths, reference, padding). Parsed with the small TLV reader; anything unexpected is
 * skipped rather than fatal, since this is the fallback for cards nobody described.
 *
 * @example
 * ```ts
 * import { parseOdf } from "./pkcs15-objects.ts";
 * // A4 06 30 04 04 02 44 04: the CDF is EF 4404 of the application
 * parseOdf(new Uint8Array([0xa4, 0x06, 0x30, 0x04, 0x04, 0x02, 0x44, 0x04])); // { certificates: ["./4404"], ... }
 * ```
 * @module
 */

import { toHex } from "../apdu.ts";
import type { FilePath } from "./files.ts";
import { parseTlv, type Tlv, uint } from "./tlv.ts";

/** Where the directory files are, from EF.ODF. */
export interface OdfEntries {
  /** PrKDF paths. */
  privateKeys: FilePath[];
  /** CDF paths (own certificates; trusted and useful ones are not listed by kortti). */
  certificates: FilePath[];
  /** AODF paths. */
  authObjects: FilePath[];
}

/** A private key object of the PrKDF. */
export interface Pkcs15PrivateKey {
  /** Label, when present. */
  label?: string;
  /** The object id linking key and certificate, hex. */
  id: string;
  /** The auth id of the PIN that protects it, hex. */
  authId?: string;
  /** Usage: sign, nonRepudiation, decrypt... */
  usage: string[];
  /** The key reference for MSE:SET. */
  keyReference?: number;
  /** `rsa` or `ec`. */
  type: "rsa" | "ec";
}

/** A certificate object of the CDF. */
export interface Pkcs15Certificate {
  /** Label, when present. */
  label?: string;
  /** The object id linking certificate and key, hex. */
  id: string;
  /** Where the certificate is. */
  path: FilePath;
}

/** A PIN object of the AODF. */
export interface Pkcs15Pin {
  /** Label, when present. */
  label?: string;
  /** Its auth id, hex. */
  authId: string;
  /** The PIN reference for VERIFY. */
  reference: number;
  /** Minimum length. */
  minLength: number;
  /** Maximum length (stored length when absent). */
  maxLength: number;
  /** Stored length (the padded length). */
  storedLength: number;
  /** Whether VERIFY pads the PIN to the stored length. */
  needsPadding: boolean;
  /** Padding byte. */
  padByte: number;
  /** Whether this is an unblocking PIN (PUK). */
  unblocking: boolean;
}

const KEY_USAGE_NAMES = [
  "encrypt",
  "decrypt",
  "sign",
  "signRecover",
  "wrap",
  "unwrap",
  "verify",
  "verifyRecover",
  "derive",
  "nonRepudiation",
];

/** PKCS#15 pwdFlags bits. */
const PWD_FLAG_NEEDS_PADDING = 5;
const PWD_FLAG_UNBLOCKING = 6;

function bitIsSet(bitString: Uint8Array | undefined, bit: number): boolean {
  if (!bitString || bitString.length < 2) return false;
  const byte = 1 + (bit >> 3);
  return byte < bitString.length && (bitString[byte] & (0x80 >> (bit & 7))) !== 0;
}

/** A PKCS#15 Path value (`3F0050154404` or `4404`) as a card-layer file path. */
export function pkcs15Path(bytes: Uint8Array): FilePath {
  const ids: string[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) ids.push(toHex(bytes.subarray(i, i + 2)));
  return ids[0] === "3F00" ? ids.join("/") : "./" + ids.join("/");
}

function safeParse(bytes: Uint8Array): Tlv[] {
  try {
    return parseTlv(bytes);
  } catch {
    return [];
  }
}

/** The first child with the tag. */
function child(element: Tlv | undefined, tag: number): Tlv | undefined {
  return element?.children?.find((c) => c.tag === tag);
}

function pathOf(element: Tlv | undefined): FilePath | undefined {
  // Path ::= SEQUENCE { path OCTET STRING, index INTEGER OPTIONAL, length [0] INTEGER OPTIONAL }
  const octets = element?.tag === 0x30 ? child(element, 0x04) : element?.tag === 0x04 ? element : undefined;
  return octets && octets.value.length >= 2 ? pkcs15Path(octets.value) : undefined;
}

function labelOf(common: Tlv | undefined): string | undefined {
  const label = child(common, 0x0c);
  return label ? new TextDecoder().decode(label.value) : undefined;
}

/**
 * EF.ODF: `[0]` private keys, `[4]` certificates, `[8]` auth objects, each a Path.
 *
 * @example
 * ```ts
 * import { parseOdf } from "./pkcs15-objects.ts";
 * parseOdf(new Uint8Array()).certificates; // []
 * ```
 */
export function parseOdf(content: Uint8Array): OdfEntries {
  const entries: OdfEntries = { privateKeys: [], certificates: [], authObjects: [] };
  for (const element of safeParse(content)) {
    const path = pathOf(element.children?.[0]);
    if (!path) continue;
    if (element.tag === 0xa0) entries.privateKeys.push(path);
    else if (element.tag === 0xa4) entries.certificates.push(path);
    else if (element.tag === 0xa8) entries.authObjects.push(path);
  }
  return entries;
}

/**
 * PrKDF: RSA (`30`) and EC (`A0`) private key objects.
 *
 * @example
 * ```ts
 * import { parsePrkdf } from "./pkcs15-objects.ts";
 * parsePrkdf(new Uint8Array()); // []
 * ```
 */
export function parsePrkdf(content: Uint8Array): Pkcs15PrivateKey[] {
  const keys: Pkcs15PrivateKey[] = [];
  for (const element of safeParse(content)) {
    if (element.tag !== 0x30 && element.tag !== 0xa0) continue;
    const [common, commonKey] = element.children ?? [];
    const id = child(commonKey, 0x04);
    if (!id) continue;
    const usageBits = child(commonKey, 0x03)?.value;
    const reference = child(commonKey, 0x02);
    const authId = child(common, 0x04);
    const key: Pkcs15PrivateKey = {
      id: toHex(id.value),
      usage: KEY_USAGE_NAMES.filter((_, bit) => bitIsSet(usageBits, bit)),
      type: element.tag === 0x30 ? "rsa" : "ec",
    };
    const label = labelOf(common);
    if (label) key.label = label;
    if (authId) key.authId = toHex(authId.value);
    if (reference) key.keyReference = uint(reference.value);
    keys.push(key);
  }
  return keys;
}

/**
 * CDF: X.509 certificate objects with their path.
 *
 * @example
 * ```ts
 * import { parseCdf } from "./pkcs15-objects.ts";
 * parseCdf(new Uint8Array()); // []
 * ```
 */
export function parseCdf(content: Uint8Array): Pkcs15Certificate[] {
  const certificates: Pkcs15Certificate[] = [];
  for (const element of safeParse(content)) {
    if (element.tag !== 0x30) continue;
    const [common, commonCert] = element.children ?? [];
    const id = child(commonCert, 0x04);
    const typeAttributes = child(element, 0xa1)?.children?.[0];
    const path = pathOf(typeAttributes?.children?.[0]);
    if (!id || !path) continue;
    const certificate: Pkcs15Certificate = { id: toHex(id.value), path };
    const label = labelOf(common);
    if (label) certificate.label = label;
    certificates.push(certificate);
  }
  return certificates;
}

/**
 * AODF: password authentication objects.
 *
 * @example
 * ```ts
 * import { parseAodf } from "./pkcs15-objects.ts";
 * parseAodf(new Uint8Array()); // []
 * ```
 */
export function parseAodf(content: Uint8Array): Pkcs15Pin[] {
  const pins: Pkcs15Pin[] = [];
  for (const element of safeParse(content)) {
    if (element.tag !== 0x30) continue;
    const [common, commonAuth] = element.children ?? [];
    const authId = child(commonAuth, 0x04);
    const attributes = child(element, 0xa1)?.children?.[0];
    if (!authId || !attributes?.children) continue;
    const integers = attributes.children.filter((c) => c.tag === 0x02).map((c) => uint(c.value));
    const flags = child(attributes, 0x03)?.value;
    const reference = child(attributes, 0x80);
    const padChar = child(attributes, 0x04);
    const [minLength = 4, storedLength = 8, maxLength = storedLength] = integers;
    const pin: Pkcs15Pin = {
      authId: toHex(authId.value),
      reference: reference ? uint(reference.value) : 0,
      minLength,
      maxLength,
      storedLength,
      needsPadding: bitIsSet(flags, PWD_FLAG_NEEDS_PADDING),
      padByte: padChar && padChar.value.length > 0 ? padChar.value[0] : 0x00,
      unblocking: bitIsSet(flags, PWD_FLAG_UNBLOCKING),
    };
    const label = labelOf(common);
    if (label) pin.label = label;
    pins.push(pin);
  }
  return pins;
}
