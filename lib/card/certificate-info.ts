/**
 * A card certificate as `list-certs --json` (and `sign --json`) show it (docs/cli.md): subject, issuer, serial,
 * validity, key algorithm, key usage names, SHA-256 and PEM, with the key and PIN state it belongs to. Read with the
 * small TLV reader rather than the X.509 library: these few fields do not need it, and loading it would cost every
 * `list-certs` about 90 ms, more than the whole card conversation.
 *
 * @example
 * ```ts
 * import { describeCertificate } from "./certificate-info.ts";
 * import type { CardCertificate, PinState } from "./card.ts";
 * declare const certificate: CardCertificate, pin: PinState;
 * const info = await describeCertificate(certificate, pin);
 * console.log(info.subject, info.keyAlgorithm, info.sha256);
 * ```
 * @module
 */

import type { CardCertificate, KeyName, PinState } from "./card.ts";
import { certificateFacts, commonNameOf, derLength } from "./cert-facts.ts";
import { parseTlv, type Tlv } from "./tlv.ts";
import { KEY_USAGE_NAMES } from "../key-usage.ts";

/** The JSON shape of a certificate in `list-certs --json` (docs/cli.md). */
export interface CertificateInfo {
  /** `auth` or `sign`. */
  key: KeyName;
  /** The private key's reference on the card, hex (`01`, `82`). */
  keyReference: string;
  /** The PIN that unlocks the key and its state. */
  pin: { name: string; reference: string; triesLeft: number | null; blocked: boolean };
  /** Subject, e.g. `C=FI, serialNumber=99999991C, GN=MATTI, SN=..., CN=...`. */
  subject: string;
  /** Issuer, same form. */
  issuer: string;
  /** Serial number, lower-case hex. */
  serialNumber: string;
  /** Start of validity, ISO 8601. */
  notBefore: string;
  /** End of validity, ISO 8601. */
  notAfter: string;
  /** `EC P-384`, `RSA 2048`... */
  keyAlgorithm: string;
  /** Key usage names (`digitalSignature`, `nonRepudiation`...). */
  keyUsage: string[];
  /** SHA-256 of the DER, lower-case hex. */
  sha256: string;
  /** The certificate as PEM. */
  pem: string;
}

/** Extra facts for the human table. */
export interface CertificateSummary {
  /** Subject CN. */
  subjectCommonName: string;
  /** Issuer CN. */
  issuerCommonName: string;
  /** Whether `now` is inside the validity period, before it, or after it. */
  validity: "valid" | "not-yet-valid" | "expired";
}

const NAME_LABELS: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.42": "GN",
  "2.5.4.97": "organizationIdentifier",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/** OID 2.5.29.15 keyUsage. */
const OID_KEY_USAGE = "2.5.29.15";

/** Dotted form of an OBJECT IDENTIFIER's value bytes. */
export function oidString(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else parts.push(value);
      value = 0;
    }
  }
  return parts.join(".");
}

function decodeString(element: Tlv): string {
  if (element.tag === 0x1e) {
    let out = "";
    for (let i = 0; i + 1 < element.value.length; i += 2) {
      out += String.fromCharCode((element.value[i] << 8) | element.value[i + 1]);
    }
    return out;
  }
  if (element.tag === 0x14) return String.fromCharCode(...element.value);
  return new TextDecoder().decode(element.value);
}

/**
 * An X.501 Name as one line, in certificate order, e.g. `C=FI, serialNumber=99999991C, GN=MATTI, CN=...`.
 *
 * @example
 * ```ts
 * import { formatName } from "./certificate-info.ts";
 * import { parseTlv } from "./tlv.ts";
 * formatName(parseTlv(new Uint8Array([0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x06, 0x13, 0x02, 0x46, 0x49]))[0]); // "C=FI"
 * ```
 */
export function formatName(name: Tlv): string {
  const parts: string[] = [];
  for (const rdn of name.children ?? []) {
    for (const attribute of rdn.children ?? []) {
      const [oid, value] = attribute.children ?? [];
      if (!oid || !value) continue;
      const dotted = oidString(oid.value);
      parts.push(`${NAME_LABELS[dotted] ?? dotted}=${decodeString(value)}`);
    }
  }
  return parts.join(", ");
}

/** A UTCTime or GeneralizedTime as ISO 8601. */
export function parseTime(element: Tlv): string {
  const text = new TextDecoder().decode(element.value);
  const match = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(text);
  if (!match) throw new RangeError(`unsupported time ${text}`);
  let year = Number(match[1]);
  if (match[1].length === 2) year += year < 50 ? 2000 : 1900;
  const date = new Date(
    Date.UTC(year, Number(match[2]) - 1, Number(match[3]), Number(match[4]), Number(match[5]), Number(match[6] ?? 0)),
  );
  return date.toISOString();
}

function hexLower(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * A DER certificate as PEM, 64 characters a line, ending with a newline.
 *
 * @example
 * ```ts
 * import { toPem } from "./certificate-info.ts";
 * toPem(new Uint8Array([0x30, 0x00])); // "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"
 * ```
 */
export function toPem(der: Uint8Array): string {
  let binary = "";
  for (const b of der) binary += String.fromCharCode(b);
  const base64 = btoa(binary);
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

function keyUsageOf(extensions: Tlv | undefined): string[] {
  for (const extension of extensions?.children?.[0]?.children ?? []) {
    const [oid, ...rest] = extension.children ?? [];
    if (!oid || oidString(oid.value) !== OID_KEY_USAGE) continue;
    const octets = rest[rest.length - 1];
    const bits = octets ? parseTlv(octets.value)[0]?.value : undefined;
    if (!bits) return [];
    return KEY_USAGE_NAMES.filter((_, bit) => {
      const byte = 1 + (bit >> 3);
      return byte < bits.length && (bits[byte] & (0x80 >> (bit & 7))) !== 0;
    });
  }
  return [];
}

/**
 * The `list-certs --json` description of a card certificate, and the facts the human table adds. `now` decides
 * the validity mark (default: the current time).
 *
 * @example
 * ```ts
 * import { describeCertificate } from "./certificate-info.ts";
 * import type { Card } from "./card.ts";
 * declare const card: Card;
 * const [auth] = await card.certificates(["auth"]);
 * const { summary, ...json } = await describeCertificate(auth, await card.pinStatus(auth.pin));
 * console.log(summary.validity, json.subject);
 * ```
 */
export async function describeCertificate(
  certificate: CardCertificate,
  pin: PinState | undefined,
  now = new Date(),
): Promise<CertificateInfo & { summary: CertificateSummary }> {
  const der = certificate.der.subarray(0, derLength(certificate.der));
  const tbs = parseTlv(der)[0]?.children?.[0];
  if (!tbs?.children) throw new RangeError("not a certificate");
  const hasVersion = tbs.children[0].tag === 0xa0;
  const fields = hasVersion ? tbs.children.slice(1) : tbs.children;
  const [serial, , issuer, validity, subject] = fields;
  const extensions = tbs.children.find((c) => c.tag === 0xa3);
  let serialBytes = serial.value;
  while (serialBytes.length > 1 && serialBytes[0] === 0) serialBytes = serialBytes.subarray(1);
  const notBefore = parseTime(validity.children![0]);
  const notAfter = parseTime(validity.children![1]);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(der)));
  const time = now.getTime();
  return {
    key: certificate.key,
    keyReference: certificate.keyReference,
    pin: {
      name: certificate.pin,
      reference: certificate.pinReference,
      triesLeft: pin?.triesLeft ?? null,
      blocked: pin?.blocked ?? false,
    },
    subject: formatName(subject),
    issuer: formatName(issuer),
    serialNumber: hexLower(serialBytes),
    notBefore,
    notAfter,
    keyAlgorithm: certificateFacts(der).keyAlgorithm,
    keyUsage: keyUsageOf(extensions),
    sha256: hexLower(digest),
    pem: toPem(der),
    summary: {
      subjectCommonName: commonNameOf(subject) ?? formatName(subject),
      issuerCommonName: commonNameOf(issuer) ?? formatName(issuer),
      validity: time < Date.parse(notBefore) ? "not-yet-valid" : time > Date.parse(notAfter) ? "expired" : "valid",
    },
  };
}
