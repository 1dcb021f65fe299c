/**
 * CMS SignedData (RFC 5652) as produced by `kortti sign` and `openssl cms -sign`: parsing it (PEM or DER, content
 * attached or detached) and checking its signer: the signature over the signed attributes, the message-digest
 * attribute against the content's hash, and the content-type attribute.
 *
 * @example
 * ```ts
 * import { checkCmsSigner, parseCms } from "./cms.ts";
 * const cms = parseCms(Deno.readFileSync("contract.p7s"), "contract.p7s");
 * const result = checkCmsSigner(cms, { digest: contentDigest }, []);
 * console.log(result.signatureValid, result.problems);
 * ```
 * @module
 */

import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { ContentInfo, id_signedData, SignedData, type SignerInfo } from "@peculiar/asn1-cms";
import { Time } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { InputFormatError } from "../errors.ts";
import { type CertInfo, equalBytes, parseCertificate, pemBlocks } from "./cert.ts";
import { checkSignature, DIGEST_NAMES, signatureScheme } from "./signature.ts";

const ID_CONTENT_TYPE = "1.2.840.113549.1.9.3";
const ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
const ID_SIGNING_TIME = "1.2.840.113549.1.9.5";

/** A parsed CMS SignedData with its first signer. */
export interface ParsedCms {
  /** The eContentType OID (id-data for signed files). */
  contentType: string;
  /** The content when attached; undefined when detached. */
  content?: Uint8Array;
  /** The certificates the CMS carries. */
  certificates: CertInfo[];
  /** The first SignerInfo. */
  signerInfo: SignerInfo;
  /** Number of SignerInfos (kortti checks the first). */
  signerCount: number;
  /** node:crypto name of the signer's digest algorithm, e.g. `sha384`. */
  digestAlgorithm: string;
  /** The DER the signer signed: its signed attributes as a SET, exactly as they are in the file. */
  signedAttributes?: Uint8Array;
}

/**
 * Whether the bytes look like a CMS at all (PEM armour or a DER SEQUENCE starting with the signedData OID), without
 * parsing it whole. Used to tell a CMS from a raw signature when `--format` is omitted.
 *
 * @example
 * ```ts
 * import { looksLikeCms } from "./cms.ts";
 * looksLikeCms(Deno.readFileSync("contract.p7s")); // true
 * ```
 */
export function looksLikeCms(bytes: Uint8Array): boolean {
  const blocks = safePem(bytes);
  if (blocks) return blocks.length > 0;
  // SEQUENCE, a length, then OBJECT IDENTIFIER 1.2.840.113549.1.7.2 within the first dozen bytes.
  const oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
  if (bytes[0] !== 0x30) return false;
  for (let at = 2; at <= 6; at++) {
    if (oid.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

/**
 * Parses a CMS SignedData from PEM (`CMS`, `PKCS7`) or DER bytes.
 *
 * @example
 * ```ts
 * import { parseCms } from "./cms.ts";
 * const cms = parseCms(Deno.readFileSync("contract.p7s"), "contract.p7s");
 * console.log(cms.content === undefined ? "detached" : "attached");
 * ```
 */
export function parseCms(bytes: Uint8Array, source: string): ParsedCms {
  const blocks = safePem(bytes);
  let der = bytes;
  if (blocks) {
    if (blocks.length === 0) throw new InputFormatError(`${source} is PEM but holds no CMS or PKCS7 block`);
    der = blocks[0];
  }
  let info: ContentInfo;
  let signedData: SignedData;
  try {
    info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== id_signedData) {
      throw new InputFormatError(`${source} is a CMS of type ${info.contentType}, not SignedData`);
    }
    signedData = AsnConvert.parse(info.content, SignedData);
  } catch (error) {
    if (error instanceof InputFormatError) throw error;
    throw new InputFormatError(`${source} is not a CMS signature (it cannot be parsed as DER or PEM SignedData)`, {
      cause: error,
    });
  }
  const signerInfo = signedData.signerInfos[0];
  if (!signerInfo) throw new InputFormatError(`${source} is a CMS without any signer`);
  const certificates: CertInfo[] = [];
  for (const [i, choice] of (signedData.certificates ?? []).entries()) {
    if (!choice.certificate) continue;
    certificates.push(
      parseCertificate(new Uint8Array(AsnConvert.serialize(choice.certificate)), `certificate #${i + 1} in ${source}`),
    );
  }
  const digestAlgorithm = DIGEST_NAMES[signerInfo.digestAlgorithm.algorithm];
  if (!digestAlgorithm) {
    throw new InputFormatError(
      `${source} uses the unsupported digest algorithm ${signerInfo.digestAlgorithm.algorithm}`,
    );
  }
  const eContent = signedData.encapContentInfo.eContent;
  let content: Uint8Array | undefined;
  if (eContent?.single) content = new Uint8Array(eContent.single.buffer);
  else if (eContent?.any) content = octetStringContent(eContent.any, source);
  return {
    contentType: signedData.encapContentInfo.eContentType,
    content,
    certificates,
    signerInfo,
    signerCount: signedData.signerInfos.length,
    digestAlgorithm,
    signedAttributes: signerInfo.signedAttrs ? signedAttributesDer(der, source) : undefined,
  };
}

/** What the signer check needs of the content: its digest (with signed attributes) and/or a way to verify it. */
export interface ContentEvidence {
  /** The content's digest with the signer's digest algorithm. */
  digest: Uint8Array;
  /** Reads the whole content, for the rare CMS without signed attributes whose signature covers it directly. */
  readContent?: () => Uint8Array;
  /** The content itself when small enough to hold (attached content). */
  bytes?: Uint8Array;
}

/** The outcome of checking the signer of a CMS. */
export interface CmsSignerCheck {
  signatureValid: boolean;
  /** The signer's certificate, when found in the CMS or among `extraCertificates`. */
  signerCert?: CertInfo;
  signingTime?: Date;
  signatureAlgorithm?: string;
  problems: string[];
}

/**
 * Checks the first signer of a CMS: finds its certificate, compares the message digest, the content type and
 * verifies the signature over the DER of the signed attributes.
 *
 * @example
 * ```ts
 * import { checkCmsSigner } from "./cms.ts";
 * const check = checkCmsSigner(cms, { digest }, []);
 * ```
 */
export function checkCmsSigner(
  cms: ParsedCms,
  evidence: ContentEvidence,
  extraCertificates: readonly CertInfo[],
): CmsSignerCheck {
  const problems: string[] = [];
  const info = cms.signerInfo;
  const signerCert = findSignerCert(info, [...cms.certificates, ...extraCertificates]);
  if (cms.signerCount > 1) problems.push(`the CMS has ${cms.signerCount} signers; kortti checked only the first`);
  const scheme = signatureScheme(info.signatureAlgorithm, cms.digestAlgorithm);
  const algorithm = typeof scheme === "string" ? undefined : scheme.name;
  if (typeof scheme === "string") problems.push(scheme);
  let signingTime: Date | undefined;
  const signature = new Uint8Array(info.signature.buffer);
  let signatureValid = false;
  if (info.signedAttrs) {
    const attributes = new Map(info.signedAttrs.map((a) => [a.attrType, a.attrValues]));
    const digestValues = attributes.get(ID_MESSAGE_DIGEST);
    let digestOk = false;
    if (!digestValues || digestValues.length !== 1) {
      problems.push("the signed attributes have no message-digest");
    } else {
      const claimed = attributeValue(() => new Uint8Array(AsnConvert.parse(digestValues[0], OctetString).buffer));
      digestOk = claimed !== undefined && equalBytes(claimed, evidence.digest);
      if (!digestOk) {
        problems.push(
          `the content does not match the signature: its ${cms.digestAlgorithm.toUpperCase()} differs from the ` +
            "signed message-digest (the file was changed, or it is not the signed file)",
        );
      }
    }
    const typeValues = attributes.get(ID_CONTENT_TYPE);
    const signedType = typeValues?.length === 1 ? attributeValue(() => oidOf(typeValues[0])) : undefined;
    if (signedType === undefined) problems.push("the signed attributes have no valid content-type");
    else if (signedType !== cms.contentType) {
      problems.push(`the signed content-type ${signedType} differs from the CMS content type ${cms.contentType}`);
    }
    const timeValues = attributes.get(ID_SIGNING_TIME);
    if (timeValues?.length === 1) {
      signingTime = attributeValue(() => AsnConvert.parse(timeValues[0], Time).getTime());
      if (!signingTime) problems.push("the signing-time attribute is malformed");
    }
    if (signerCert && typeof scheme !== "string") {
      const signed = cms.signedAttributes!;
      const check = checkSignature(signerCert.spki, scheme, signed, signature);
      if (!check.ok) {
        problems.push(
          `the signature over the signed attributes does not verify with the signer's key (${check.reason}): ` +
            "the signature or its signed attributes were changed",
        );
      }
      signatureValid = check.ok && digestOk && signedType === cms.contentType;
    }
  } else if (signerCert && typeof scheme !== "string") {
    // No signed attributes: the signature is over the content itself.
    const verifyOver = (data: Uint8Array) => checkSignature(signerCert.spki, scheme, data, signature).ok;
    const ok = evidence.bytes
      ? verifyOver(evidence.bytes)
      : evidence.readContent
      ? verifyOver(evidence.readContent())
      : false;
    if (!ok) problems.push("the signature over the content does not verify with the signer's key");
    signatureValid = ok;
  }
  if (!signerCert) {
    problems.push(
      "the signer's certificate is neither in the CMS nor given with --cert: the signature cannot be checked",
    );
  }
  return { signatureValid, signerCert, signingTime, signatureAlgorithm: algorithm, problems };
}

/**
 * The DER the signer signed: the first signer's signed attributes with their `[0] IMPLICIT` tag turned back into a
 * SET (RFC 5652 5.4). Taken from the bytes of the file, never re-encoded, so that a re-encoding cannot hide a change.
 *
 * @example
 * ```ts
 * import { signedAttributesDer } from "./cms.ts";
 * signedAttributesDer(Deno.readFileSync("contract.p7s"), "contract.p7s")[0]; // 0x31
 * ```
 */
export function signedAttributesDer(der: Uint8Array, source: string): Uint8Array {
  const parsed = asn1js.fromBER(der);
  const children = (block: asn1js.AsnType | undefined): asn1js.AsnType[] => {
    const value = (block as asn1js.Constructed | undefined)?.valueBlock?.value;
    return Array.isArray(value) ? value : [];
  };
  const signedData = children(children(parsed.result)[1])[0];
  const signerInfos = children(signedData).at(-1);
  const signerInfo = children(signerInfos)[0];
  const attrs = children(signerInfo).find((b) => b.idBlock.tagClass === 3 && b.idBlock.tagNumber === 0);
  if (!attrs) throw new InputFormatError(`the signed attributes in ${source} cannot be located`);
  const raw = new Uint8Array(attrs.valueBeforeDecodeView).slice();
  raw[0] = 0x31;
  return raw;
}

function findSignerCert(info: SignerInfo, certificates: readonly CertInfo[]): CertInfo | undefined {
  const sid = info.sid;
  if (sid.issuerAndSerialNumber) {
    const issuer = new Uint8Array(AsnConvert.serialize(sid.issuerAndSerialNumber.issuer));
    const serial = new Uint8Array(sid.issuerAndSerialNumber.serialNumber);
    return certificates.find((c) =>
      equalBytes(c.issuerDer, issuer) && equalBytes(new Uint8Array(c.asn.tbsCertificate.serialNumber), serial)
    );
  }
  if (sid.subjectKeyIdentifier) {
    const ski = new Uint8Array(sid.subjectKeyIdentifier.buffer);
    return certificates.find((c) => {
      const ext = c.asn.tbsCertificate.extensions?.find((e) => e.extnID === "2.5.29.14");
      if (!ext) return false;
      const value = attributeValue(() => new Uint8Array(AsnConvert.parse(ext.extnValue.buffer, OctetString).buffer));
      return value !== undefined && equalBytes(value, ski);
    });
  }
  return undefined;
}

function attributeValue<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function oidOf(der: ArrayBuffer): string {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.ObjectIdentifier)) throw new Error("not an OID");
  return parsed.result.valueBlock.toString();
}

function octetStringContent(any: ArrayBuffer, source: string): Uint8Array {
  const parsed = asn1js.fromBER(any);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.OctetString)) {
    throw new InputFormatError(`${source} carries content that is not an OCTET STRING`);
  }
  return new Uint8Array(parsed.result.getValue());
}

function safePem(bytes: Uint8Array): Uint8Array[] | null {
  return pemBlocks(bytes, ["CMS", "PKCS7", "PKCS #7 SIGNED DATA"]);
}
