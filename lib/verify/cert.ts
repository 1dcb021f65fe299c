/**
 * X.509 certificates as verification needs them: parsed once from DER (with @peculiar/asn1-x509, not the heavier
 * @peculiar/x509) into the facts chain building, key-usage and revocation checks look at.
 *
 * @example
 * ```ts
 * import { readCertificates } from "./cert.ts";
 * const [cert] = readCertificates(Deno.readFileSync("signer.pem"), "signer.pem");
 * console.log(cert.subject, cert.keyUsage);
 * ```
 * @module
 */

import { AsnConvert } from "@peculiar/asn1-schema";
import {
  AuthorityInfoAccessSyntax,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_pe_authorityInfoAccess,
  KeyUsage,
  type Name,
} from "@peculiar/asn1-x509";
import { InputFormatError } from "../errors.ts";
import { KEY_USAGE_NAMES } from "../key-usage.ts";

/** The OID of id-ad-ocsp (RFC 5280), the access method of an OCSP responder in AIA. */
const ID_AD_OCSP = "1.3.6.1.5.5.7.48.1";
/** The OID of the qcStatements extension (RFC 3739). */
const ID_PE_QC_STATEMENTS = "1.3.6.1.5.5.7.1.3";
/** DER of the OID id-etsi-qcs-QcCompliance (0.4.0.1862.1.1), searched inside qcStatements. */
const QC_COMPLIANCE_DER = Uint8Array.of(0x06, 0x06, 0x04, 0x00, 0x8e, 0x46, 0x01, 0x01);

/** One certificate, parsed, with the facts verification uses. */
export interface CertInfo {
  /** The DER encoding. */
  der: Uint8Array;
  /** The parsed ASN.1 structure. */
  asn: Certificate;
  /** DER of the TBSCertificate, the bytes the issuer signed. */
  tbs: Uint8Array;
  /** DER of the subject and issuer names, compared byte for byte when chaining. */
  subjectDer: Uint8Array;
  issuerDer: Uint8Array;
  /** DER of the SubjectPublicKeyInfo. */
  spki: Uint8Array;
  /** Readable names, e.g. `CN=MEIKÄLÄINEN MATTI 99999999X, C=FI`. */
  subject: string;
  issuer: string;
  /** The subject's common name (or the whole subject when it has none). */
  commonName: string;
  /** Serial number, lowercase hex without sign padding. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Key usage bit names; null when the certificate has no keyUsage extension (every use allowed). */
  keyUsage: string[] | null;
  /** Extended key usage OIDs; null when absent. */
  extendedKeyUsage: string[] | null;
  /** basicConstraints cA; false when absent. */
  isCa: boolean;
  pathLength: number | undefined;
  /** OCSP responder URLs from the authority information access extension. */
  ocspUrls: string[];
  /** Whether a qcStatements extension declares EU qualified-certificate compliance. */
  qcCompliance: boolean;
  /** Whether subject equals issuer (a self-issued certificate, e.g. a root). */
  selfIssued: boolean;
}

/**
 * Parses one DER certificate.
 *
 * @example
 * ```ts
 * import { parseCertificate } from "./cert.ts";
 * const cert = parseCertificate(derBytes, "the signer certificate");
 * ```
 */
export function parseCertificate(der: Uint8Array, what = "certificate"): CertInfo {
  let asn: Certificate;
  try {
    asn = AsnConvert.parse(der, Certificate);
  } catch (error) {
    throw new InputFormatError(`${what} is not a valid X.509 certificate`, { cause: error });
  }
  const tbsCert = asn.tbsCertificate;
  const subjectDer = new Uint8Array(AsnConvert.serialize(tbsCert.subject));
  const issuerDer = new Uint8Array(AsnConvert.serialize(tbsCert.issuer));
  let keyUsage: string[] | null = null;
  let extendedKeyUsage: string[] | null = null;
  let isCa = false;
  let pathLength: number | undefined;
  const ocspUrls: string[] = [];
  let qcCompliance = false;
  for (const extension of tbsCert.extensions ?? []) {
    const value = new Uint8Array(extension.extnValue.buffer);
    try {
      switch (extension.extnID) {
        case id_ce_keyUsage: {
          const bits = AsnConvert.parse(value, KeyUsage).toNumber();
          keyUsage = KEY_USAGE_NAMES.filter((_, i) => (bits & (1 << i)) !== 0);
          break;
        }
        case id_ce_extKeyUsage:
          extendedKeyUsage = [...AsnConvert.parse(value, ExtendedKeyUsage)];
          break;
        case id_ce_basicConstraints: {
          const constraints = AsnConvert.parse(value, BasicConstraints);
          isCa = constraints.cA;
          pathLength = constraints.pathLenConstraint;
          break;
        }
        case id_pe_authorityInfoAccess:
          for (const access of AsnConvert.parse(value, AuthorityInfoAccessSyntax)) {
            const url = access.accessLocation.uniformResourceIdentifier;
            if (access.accessMethod === ID_AD_OCSP && url) ocspUrls.push(url);
          }
          break;
        case ID_PE_QC_STATEMENTS:
          qcCompliance = indexOf(value, QC_COMPLIANCE_DER) >= 0;
          break;
      }
    } catch (error) {
      throw new InputFormatError(`${what} has a malformed extension ${extension.extnID}`, { cause: error });
    }
  }
  const subject = formatName(tbsCert.subject);
  return {
    der,
    asn,
    tbs: new Uint8Array(asn.tbsCertificateRaw ?? AsnConvert.serialize(tbsCert)),
    subjectDer,
    issuerDer,
    spki: new Uint8Array(AsnConvert.serialize(tbsCert.subjectPublicKeyInfo)),
    subject,
    issuer: formatName(tbsCert.issuer),
    commonName: attribute(tbsCert.subject, "2.5.4.3") ?? subject,
    serialNumber: serialHex(new Uint8Array(tbsCert.serialNumber)),
    notBefore: tbsCert.validity.notBefore.getTime(),
    notAfter: tbsCert.validity.notAfter.getTime(),
    keyUsage,
    extendedKeyUsage,
    isCa,
    pathLength,
    ocspUrls,
    qcCompliance,
    selfIssued: equalBytes(subjectDer, issuerDer),
  };
}

/**
 * Reads every certificate of a PEM bundle (`-----BEGIN CERTIFICATE-----` blocks) or one DER certificate.
 *
 * @example
 * ```ts
 * import { readCertificates } from "./cert.ts";
 * const anchors = readCertificates(Deno.readFileSync("ca-bundle.pem"), "ca-bundle.pem");
 * ```
 */
export function readCertificates(bytes: Uint8Array, source: string): CertInfo[] {
  const blocks = pemBlocks(bytes, ["CERTIFICATE", "TRUSTED CERTIFICATE"]);
  if (blocks === null) return [parseCertificate(bytes, `${source}`)];
  if (blocks.length === 0) throw new InputFormatError(`${source} holds no certificate`);
  return blocks.map((der, i) => parseCertificate(der, blocks.length === 1 ? source : `${source} (#${i + 1})`));
}

/**
 * Decodes the PEM blocks with one of the given labels; null when the bytes are not PEM text at all.
 *
 * @example
 * ```ts
 * import { pemBlocks } from "./cert.ts";
 * pemBlocks(new TextEncoder().encode("-----BEGIN CMS-----\nMAA=\n-----END CMS-----\n"), ["CMS"]); // [Uint8Array [48, 0]]
 * ```
 */
export function pemBlocks(bytes: Uint8Array, labels: readonly string[]): Uint8Array[] | null {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  if (!head.includes("-----BEGIN ")) return null;
  const text = new TextDecoder("latin1").decode(bytes);
  const blocks: Uint8Array[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (const match of text.matchAll(pattern)) {
    if (!labels.includes(match[1])) continue;
    const body = match[2].replace(/^[A-Za-z-]+:.*$/gm, "").replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new InputFormatError(`a PEM ${match[1]} block is not base64`);
    blocks.push(Uint8Array.from(atob(body), (c) => c.charCodeAt(0)));
  }
  return blocks;
}

/** Short names of the attribute types seen in Finnish and test certificates. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.42": "GN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.97": "organizationIdentifier",
  "1.2.840.113549.1.9.1": "emailAddress",
};

/**
 * Formats a name most-specific first, as `openssl -nameopt RFC2253` does: `CN=…, O=…, C=FI`.
 *
 * @example
 * ```ts
 * import { formatName } from "./cert.ts";
 * formatName(cert.asn.tbsCertificate.subject);
 * ```
 */
export function formatName(name: Name): string {
  const parts: string[] = [];
  for (const rdn of [...name].reverse()) {
    parts.push(
      rdn.map((atv) => `${ATTRIBUTE_NAMES[atv.type] ?? atv.type}=${valueText(atv.value)}`).join("+"),
    );
  }
  return parts.join(", ");
}

function attribute(name: Name, oid: string): string | undefined {
  for (const rdn of [...name].reverse()) {
    for (const atv of rdn) if (atv.type === oid) return valueText(atv.value);
  }
  return undefined;
}

function valueText(value: { toString(): string }): string {
  try {
    return value.toString();
  } catch {
    return "?";
  }
}

/**
 * Lowercase hex of a DER INTEGER's content, without the leading zero byte DER adds to keep it positive.
 *
 * @example
 * ```ts
 * import { serialHex } from "./cert.ts";
 * serialHex(Uint8Array.of(0, 0x9a, 1)); // "9a01"
 * ```
 */
export function serialHex(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return [...bytes.subarray(start)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether two byte arrays are equal.
 *
 * @example
 * ```ts
 * import { equalBytes } from "./cert.ts";
 * equalBytes(Uint8Array.of(1), Uint8Array.of(1)); // true
 * ```
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
