/**
 * CMS SignedData (RFC 5652) around a signature the card makes: signed attributes content-type, message-digest,
 * signing-time (left out for PAdES) and signing-certificate-v2 (RFC 5035), the signer's certificate and its chain,
 * ECDSA signatures DER-encoded, RSA as PKCS#1 v1.5 or RSASSA-PSS with explicit parameters (RFC 4055: MGF1 with the
 * same hash, salt as long as the hash). Built in two steps because the card signs in between: `prepareSignedData`
 * gives the DER signed attributes whose hash the card signs, `finish` wraps the card's answer.
 *
 * Certificates and names are copied into the output byte for byte (never re-encoded), so a certificate that is not
 * perfectly DER still verifies.
 *
 * @example
 * ```ts
 * import { prepareSignedData } from "./cms.ts";
 * import { hashBytes } from "./hash.ts";
 * declare const certificate: Uint8Array, digest: Uint8Array, sign: (d: Uint8Array) => Promise<Uint8Array>;
 * const prepared = prepareSignedData({ certificate, chain: [certificate], hash: "sha256", scheme: "ecdsa",
 *   messageDigest: digest });
 * const p7s = prepared.finish(await sign(hashBytes(prepared.toBeSigned, "sha256")));
 * ```
 * @module
 */

import * as asn1js from "asn1js";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier } from "@peculiar/asn1-x509";
import { RsaSaPssParams } from "@peculiar/asn1-rsa";
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  id_data,
  id_signedData,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from "@peculiar/asn1-cms";
import type { HashName, SignatureScheme } from "../card/card.ts";
import { parseTlv } from "../card/tlv.ts";
import { derLength } from "../card/cert-facts.ts";
import { DIGEST_LENGTH, hashBytes } from "./hash.ts";
import { concat, derTlv, ecdsaRawToDer } from "./raw.ts";

/** Object identifiers used here. */
export const OID = {
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  ecdsaWithSha384: "1.2.840.10045.4.3.3",
  ecdsaWithSha512: "1.2.840.10045.4.3.4",
  rsaEncryption: "1.2.840.113549.1.1.1",
  rsassaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
} as const;

/** What goes into a SignedData besides the card's signature. */
export interface SignedDataParts {
  /** The signer's certificate, DER. */
  certificate: Uint8Array;
  /** The chain to include, end-entity first (the signer's certificate may or may not be its first element). */
  chain: Uint8Array[];
  /** Hash of the content and of the signed attributes. */
  hash: HashName;
  /** How the card signs: `ecdsa`, `pkcs1` or `pss`. */
  scheme: SignatureScheme;
  /** The hash of the content (message-digest attribute). */
  messageDigest: Uint8Array;
  /** The content, to embed it (`cms`); absent for a detached signature. */
  content?: Uint8Array;
  /** The signing-time attribute; `null` leaves it out (PAdES). Default: now. */
  signingTime?: Date | null;
}

/** The signed attributes to sign and the step that completes the SignedData. */
export interface PreparedSignedData {
  /** DER of the signed attributes (`SET OF Attribute`): the card signs its hash. */
  toBeSigned: Uint8Array;
  /** The hash of `toBeSigned`, with the SignedData's hash: what goes to the card. */
  digestToSign: Uint8Array;
  /** Builds the DER ContentInfo from the card's signature (ECDSA raw r‖s or RSA bytes). */
  finish(cardSignature: Uint8Array): Uint8Array;
  /**
   * For content embedded by the caller without copying it: the DER bytes that go before and after `contentLength`
   * bytes of content to make the whole ContentInfo (`prefix ‖ content ‖ suffix`).
   */
  finishAround(cardSignature: Uint8Array, contentLength: number): { prefix: Uint8Array; suffix: Uint8Array };
}

/**
 * Builds the signed attributes and returns them with the step that wraps the card's signature.
 *
 * @example
 * ```ts
 * import { prepareSignedData } from "./cms.ts";
 * declare const certificate: Uint8Array, digest: Uint8Array;
 * const prepared = prepareSignedData({ certificate, chain: [], hash: "sha384", scheme: "ecdsa", messageDigest: digest,
 *   signingTime: null });
 * prepared.digestToSign.length; // 48
 * ```
 */
export function prepareSignedData(parts: SignedDataParts): PreparedSignedData {
  if (parts.messageDigest.length !== DIGEST_LENGTH[parts.hash]) {
    throw new RangeError(`a ${parts.hash} message digest is ${DIGEST_LENGTH[parts.hash]} bytes`);
  }
  const certificate = parts.certificate.subarray(0, derLength(parts.certificate));
  const { issuer, serialNumber } = issuerAndSerialOf(certificate);
  const attributes = [
    attribute(OID.contentType, derOid(id_data)),
    attribute(OID.messageDigest, derTlv(0x04, parts.messageDigest)),
    ...(parts.signingTime === null ? [] : [attribute(OID.signingTime, derTime(parts.signingTime ?? new Date()))]),
    attribute(OID.signingCertificateV2, signingCertificateV2(certificate, issuer, serialNumber)),
  ];
  // DER orders a SET OF by the encodings; the SignerInfo then carries the attributes in that same order.
  const encoded = attributes.map((a) => ({ a, der: new Uint8Array(AsnConvert.serialize(a)) }))
    .sort((x, y) => compareBytes(x.der, y.der));
  const toBeSigned = derTlv(0x31, concat(...encoded.map((e) => e.der)));
  const digestToSign = hashBytes(toBeSigned, parts.hash);
  return {
    toBeSigned,
    digestToSign,
    finish(cardSignature: Uint8Array): Uint8Array {
      if (!parts.content) return detachedSignedData(cardSignature);
      const { prefix, suffix } = spliceContent(detachedSignedData(cardSignature), parts.content.length);
      return concat(prefix, parts.content, suffix);
    },
    finishAround: (cardSignature: Uint8Array, contentLength: number) =>
      spliceContent(detachedSignedData(cardSignature), contentLength),
  };

  /** The whole ContentInfo without eContent, built with the ASN.1 library (small: the content is never in it). */
  function detachedSignedData(cardSignature: Uint8Array): Uint8Array {
    const signerInfo = new SignerInfo({
      version: CMSVersion.v1,
      sid: new SignerIdentifier({
        issuerAndSerialNumber: rawDer(derTlv(0x30, concat(issuer, serialNumber))) as never,
      }),
      digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: OID[parts.hash] }),
      signedAttrs: encoded.map((e) => e.a),
      signatureAlgorithm: signatureAlgorithmIdentifier(parts.hash, parts.scheme),
      signature: new OctetString(parts.scheme === "ecdsa" ? ecdsaRawToDer(cardSignature) : cardSignature),
    });
    const chain = [certificate, ...parts.chain.filter((c) => !sameBytes(c.subarray(0, derLength(c)), certificate))];
    const signedData = new SignedData({
      version: CMSVersion.v1,
      digestAlgorithms: new DigestAlgorithmIdentifiers([
        new DigestAlgorithmIdentifier({ algorithm: OID[parts.hash] }),
      ]),
      encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
      certificates: new CertificateSet(
        chain.map((der) => new CertificateChoices({ certificate: rawDer(der.subarray(0, derLength(der))) as never })),
      ),
      signerInfos: new SignerInfos([signerInfo]),
    });
    // ContentInfo by hand: its content is an ANY, which the serializer would parse and re-encode.
    const signedDataDer = new Uint8Array(AsnConvert.serialize(signedData));
    return derTlv(0x30, concat(derOid(id_signedData), derTlv(0xa0, signedDataDer)));
  }
}

/**
 * Turns a detached ContentInfo into the bytes around an embedded content of `contentLength` bytes: the
 * EncapsulatedContentInfo gains `[0] EXPLICIT OCTET STRING`, and the lengths of SignedData and ContentInfo grow.
 * Done on DER headers, so content of any size is never parsed, re-encoded or copied here.
 */
function spliceContent(detached: Uint8Array, contentLength: number): { prefix: Uint8Array; suffix: Uint8Array } {
  const contentInfo = parseTlv(detached)[0];
  const [contentType, explicit] = contentInfo.children!;
  const signedData = explicit.children![0];
  const [version, digestAlgorithms, encapContentInfo, ...rest] = signedData.children!;
  const eContentType = encapContentInfo.children![0];
  const octetHeader = derHeader(0x04, contentLength);
  const explicitHeader = derHeader(0xa0, octetHeader.length + contentLength);
  const encapLength = eContentType.raw.length + explicitHeader.length + octetHeader.length + contentLength;
  const encapHeader = derHeader(0x30, encapLength);
  const suffix = concat(...rest.map((t) => t.raw));
  const signedDataLength = version.raw.length + digestAlgorithms.raw.length + encapHeader.length + encapLength +
    suffix.length;
  const signedDataHeader = derHeader(0x30, signedDataLength);
  const explicitSignedData = derHeader(0xa0, signedDataHeader.length + signedDataLength);
  const contentInfoLength = contentType.raw.length + explicitSignedData.length + signedDataHeader.length +
    signedDataLength;
  const prefix = concat(
    derHeader(0x30, contentInfoLength),
    contentType.raw,
    explicitSignedData,
    signedDataHeader,
    version.raw,
    digestAlgorithms.raw,
    encapHeader,
    eContentType.raw,
    explicitHeader,
    octetHeader,
  );
  return { prefix, suffix };
}

/** A DER tag and definite length, without the value (which may be gigabytes the caller places). */
function derHeader(tag: number, length: number): Uint8Array {
  if (length < 0x80) return new Uint8Array([tag, length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return new Uint8Array([tag, 0x80 | bytes.length, ...bytes]);
}

/**
 * The signature AlgorithmIdentifier of a SignerInfo: ecdsa-with-SHAxxx, rsaEncryption (PKCS#1 v1.5, as RFC 3370
 * allows) or id-RSASSA-PSS with its parameters.
 *
 * @example
 * ```ts
 * import { signatureAlgorithmIdentifier } from "./cms.ts";
 * signatureAlgorithmIdentifier("sha256", "pss").algorithm; // "1.2.840.113549.1.1.10"
 * ```
 */
export function signatureAlgorithmIdentifier(hash: HashName, scheme: SignatureScheme): SignatureAlgorithmIdentifier {
  if (scheme === "ecdsa") {
    const algorithm = hash === "sha256"
      ? OID.ecdsaWithSha256
      : hash === "sha384"
      ? OID.ecdsaWithSha384
      : OID.ecdsaWithSha512;
    return new SignatureAlgorithmIdentifier({ algorithm });
  }
  if (scheme === "pkcs1") return new SignatureAlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null });
  const hashAlgorithm = new AlgorithmIdentifier({ algorithm: OID[hash], parameters: null });
  const params = new RsaSaPssParams({
    hashAlgorithm,
    maskGenAlgorithm: new AlgorithmIdentifier({ algorithm: OID.mgf1, parameters: AsnConvert.serialize(hashAlgorithm) }),
    saltLength: DIGEST_LENGTH[hash],
  });
  return new SignatureAlgorithmIdentifier({ algorithm: OID.rsassaPss, parameters: AsnConvert.serialize(params) });
}

/**
 * The signing-certificate-v2 attribute value (RFC 5035), defined here as no package of ours has it:
 * ```asn
 * SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
 * ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT {id-sha256}, certHash OCTET STRING,
 *                            issuerSerial IssuerSerial OPTIONAL }
 * IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
 * ```
 * With SHA-256 the hashAlgorithm is the default and so left out (DER); issuer is one directoryName `[4]`.
 *
 * @example
 * ```ts
 * import { signingCertificateV2 } from "./cms.ts";
 * declare const cert: Uint8Array, issuer: Uint8Array, serial: Uint8Array;
 * signingCertificateV2(cert, issuer, serial)[0]; // 0x30
 * ```
 */
export function signingCertificateV2(
  certificate: Uint8Array,
  issuer: Uint8Array,
  serialNumber: Uint8Array,
): Uint8Array {
  const issuerSerial = derTlv(0x30, concat(derTlv(0x30, derTlv(0xa4, issuer)), serialNumber));
  const essCertIdV2 = derTlv(0x30, concat(derTlv(0x04, hashBytes(certificate, "sha256")), issuerSerial));
  return derTlv(0x30, derTlv(0x30, essCertIdV2));
}

/**
 * The issuer Name and serialNumber INTEGER of a certificate, as their DER bytes in it.
 *
 * @example
 * ```ts
 * import { issuerAndSerialOf } from "./cms.ts";
 * declare const cert: Uint8Array;
 * issuerAndSerialOf(cert).serialNumber[0]; // 0x02
 * ```
 */
export function issuerAndSerialOf(certificate: Uint8Array): { issuer: Uint8Array; serialNumber: Uint8Array } {
  const tbs = parseTlv(certificate)[0]?.children?.[0]?.children;
  if (!tbs) throw new RangeError("not a certificate");
  const fields = tbs[0].tag === 0xa0 ? tbs.slice(1) : tbs;
  return { serialNumber: fields[0].raw, issuer: fields[2].raw };
}

function attribute(type: string, value: Uint8Array): Attribute {
  return new Attribute({ attrType: type, attrValues: [value.slice().buffer] });
}

/**
 * An object the ASN.1 serializer takes as a finished element: it writes the DER bytes verbatim into the parent's
 * writer (asn1js' own RawData drops its bytes inside a constructed parent).
 */
function rawDer(der: Uint8Array): { toASN(): unknown; fromASN(): unknown } {
  const verbatim = {
    toBER(_sizeOnly?: boolean, writer?: { write(buffer: ArrayBuffer): void }): ArrayBuffer {
      const buffer = der.slice().buffer;
      if (!writer) return buffer;
      writer.write(buffer);
      return new ArrayBuffer(0);
    },
  };
  return { toASN: () => verbatim, fromASN: () => verbatim };
}

function derOid(dotted: string): Uint8Array {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value: dotted }).toBER());
}

/** UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5652 §11.3), whole seconds, UTC. */
function derTime(date: Date): Uint8Array {
  const iso = date.toISOString();
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  const year = date.getUTCFullYear();
  const text = year >= 1950 && year < 2050 ? digits.slice(2) : digits;
  return derTlv(year >= 1950 && year < 2050 ? 0x17 : 0x18, new TextEncoder().encode(text));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}
