/**
 * CRLs from files (`--crl FILE`, PEM or DER): the CRL counts for a certificate when its issuer name is the
 * certificate's issuer and its signature verifies with the issuer's key; then the certificate is revoked when its
 * serial number is listed.
 *
 * @example
 * ```ts
 * import { checkCrls, readCrl } from "./crl.ts";
 * const crl = readCrl(Deno.readFileSync("citizen-ca.crl.pem"), "citizen-ca.crl.pem");
 * const answer = checkCrls(signerCert, issuerCert, [crl], new Date());
 * console.log(answer.status);
 * ```
 * @module
 */

import { AsnConvert } from "@peculiar/asn1-schema";
import { CertificateList, CRLReason, id_ce_cRLReasons } from "@peculiar/asn1-x509";
import { InputFormatError } from "../errors.ts";
import { type CertInfo, equalBytes, pemBlocks } from "./cert.ts";
import { REVOCATION_REASONS, type RevocationAnswer } from "./ocsp.ts";
import { checkSignature } from "./signature.ts";

/** A parsed CRL and where it came from. */
export interface CrlFile {
  source: string;
  list: CertificateList;
  tbs: Uint8Array;
  issuerDer: Uint8Array;
}

/**
 * Parses a CRL from PEM (`X509 CRL`) or DER.
 *
 * @example
 * ```ts
 * import { readCrl } from "./crl.ts";
 * readCrl(Deno.readFileSync("ca.crl"), "ca.crl").list.tbsCertList.thisUpdate;
 * ```
 */
export function readCrl(bytes: Uint8Array, source: string): CrlFile {
  const blocks = pemBlocks(bytes, ["X509 CRL"]);
  if (blocks && blocks.length === 0) throw new InputFormatError(`${source} holds no X509 CRL block`);
  const der = blocks ? blocks[0] : bytes;
  let list: CertificateList;
  try {
    list = AsnConvert.parse(der, CertificateList);
  } catch (error) {
    throw new InputFormatError(`${source} is not a valid CRL`, { cause: error });
  }
  return {
    source,
    list,
    tbs: new Uint8Array(list.tbsCertListRaw ?? AsnConvert.serialize(list.tbsCertList)),
    issuerDer: new Uint8Array(AsnConvert.serialize(list.tbsCertList.issuer)),
  };
}

/**
 * Looks `cert` up in the CRLs of its issuer. Revoked when listed in a CRL whose signature verifies; good when such a
 * CRL does not list it; unknown when no CRL of this issuer verifies.
 *
 * @example
 * ```ts
 * import { checkCrls } from "./crl.ts";
 * checkCrls(signerCert, issuerCert, crls, new Date()).status; // "good"
 * ```
 */
export function checkCrls(
  cert: CertInfo,
  issuer: CertInfo | undefined,
  crls: readonly CrlFile[],
  at: Date,
): RevocationAnswer {
  const problems: string[] = [];
  const serial = new Uint8Array(cert.asn.tbsCertificate.serialNumber);
  let checked = false;
  for (const crl of crls) {
    if (!equalBytes(crl.issuerDer, cert.issuerDer)) continue;
    if (!issuer) {
      problems.push(`CRL ${crl.source}: the issuer certificate is not at hand to check its signature`);
      continue;
    }
    if (!checkSignature(issuer.spki, crl.list.signatureAlgorithm, crl.tbs, new Uint8Array(crl.list.signature)).ok) {
      problems.push(`CRL ${crl.source}: its signature does not verify with the key of '${issuer.commonName}'`);
      continue;
    }
    const tbs = crl.list.tbsCertList;
    const entry = tbs.revokedCertificates?.find((r) => equalBytes(new Uint8Array(r.userCertificate), serial));
    if (entry) {
      const revokedAt = entry.revocationDate.getTime();
      const reason = reasonOf(entry.crlEntryExtensions);
      return {
        status: "revoked",
        revokedAt,
        reason,
        problems: [
          `the signer certificate '${cert.commonName}' is revoked (CRL ${crl.source}, since ${revokedAt.toISOString()}${
            reason ? `, reason ${reason}` : ""
          })`,
        ],
      };
    }
    const nextUpdate = tbs.nextUpdate?.getTime();
    if (nextUpdate && nextUpdate < at) {
      problems.push(`CRL ${crl.source}: out of date (nextUpdate ${nextUpdate.toISOString()})`);
      continue;
    }
    checked = true;
  }
  if (checked) return { status: "good", problems };
  if (problems.length === 0) problems.push(`no CRL given for the issuer '${cert.issuer}': revocation status unknown`);
  return { status: "unknown", problems };
}

function reasonOf(
  extensions: { extnID: string; extnValue: { buffer: ArrayBuffer } }[] | undefined,
): string | undefined {
  const extension = extensions?.find((e) => e.extnID === id_ce_cRLReasons);
  if (!extension) return undefined;
  try {
    const code = AsnConvert.parse(extension.extnValue.buffer, CRLReason).reason;
    return REVOCATION_REASONS[code] ?? String(code);
  } catch {
    return undefined;
  }
}
