/**
 * OCSP (RFC 6960): asks the responder named in a certificate's authority information access whether it is revoked.
 * The request is a real DER OCSPRequest POSTed over HTTP; the answer counts only when its signature verifies, by the
 * issuing CA itself or by a responder certificate the CA issued for OCSP signing (id-kp-OCSPSigning), and when its
 * CertID is the one asked about. Anything else (unreachable, unsigned, stale, not matching) is "unknown", never
 * "good".
 *
 * @example
 * ```ts
 * import { checkOcsp } from "./ocsp.ts";
 * const answer = await checkOcsp(signerCert, issuerCert, { at: new Date() });
 * console.log(answer.status, answer.problems);
 * ```
 * @module
 */

import { createHash, getRandomValues } from "node:crypto";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Extension } from "@peculiar/asn1-x509";
import {
  BasicOCSPResponse,
  CertID,
  id_kp_OCSPSigning,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  Request,
  TBSRequest,
} from "@peculiar/asn1-ocsp";
import { type CertInfo, equalBytes, parseCertificate } from "./cert.ts";
import { checkSignature } from "./signature.ts";

const ID_SHA1 = "1.3.14.3.2.26";
/** Clock skew tolerated between the responder and this machine. */
const SKEW_MS = 5 * 60 * 1000;

/** A revocation answer for one certificate. */
export interface RevocationAnswer {
  status: "good" | "revoked" | "unknown";
  /** When revoked: the revocation time, and the reason when given. */
  revokedAt?: Date;
  reason?: string;
  problems: string[];
}

/** Options of an OCSP check. */
export interface OcspOptions {
  /** The responder URL; default: the first OCSP URL of the certificate's AIA. */
  url?: string;
  /** The current time, to judge thisUpdate/nextUpdate. */
  at?: Date;
  /** HTTP timeout in milliseconds (default 5000). */
  timeoutMs?: number;
}

/** Reason names of CRLReason, by value (RFC 5280 5.3.1). */
export const REVOCATION_REASONS: Record<number, string> = {
  0: "unspecified",
  1: "keyCompromise",
  2: "cACompromise",
  3: "affiliationChanged",
  4: "superseded",
  5: "cessationOfOperation",
  6: "certificateHold",
  8: "removeFromCRL",
  9: "privilegeWithdrawn",
  10: "aACompromise",
};

/**
 * Builds the DER OCSPRequest for `cert` issued by `issuer`, with a random nonce.
 *
 * @example
 * ```ts
 * import { buildOcspRequest } from "./ocsp.ts";
 * const { der, nonce } = buildOcspRequest(signerCert, issuerCert);
 * ```
 */
export function buildOcspRequest(
  cert: CertInfo,
  issuer: CertInfo,
): { der: Uint8Array<ArrayBuffer>; certId: CertID; nonce: Uint8Array } {
  const certId = certIdOf(cert, issuer);
  const nonce = getRandomValues(new Uint8Array(16));
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({
      requestList: [new Request({ reqCert: certId })],
      requestExtensions: [
        new Extension({
          extnID: id_pkix_ocsp_nonce,
          critical: false,
          extnValue: new OctetString(AsnConvert.serialize(new OctetString(nonce))),
        }),
      ],
    }),
  });
  return { der: new Uint8Array(AsnConvert.serialize(request)), certId, nonce };
}

/**
 * Asks the OCSP responder about `cert` and checks the answer.
 *
 * @example
 * ```ts
 * import { checkOcsp } from "./ocsp.ts";
 * const { status } = await checkOcsp(signerCert, issuerCert, { url: "http://127.0.0.1:38080/" });
 * ```
 */
export async function checkOcsp(
  cert: CertInfo,
  issuer: CertInfo,
  options: OcspOptions = {},
): Promise<RevocationAnswer> {
  const url = options.url ?? cert.ocspUrls[0];
  if (!url) {
    return { status: "unknown", problems: ["OCSP: the signer certificate names no OCSP responder (no AIA OCSP URL)"] };
  }
  const { der, certId, nonce } = buildOcspRequest(cert, issuer);
  let body: Uint8Array;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/ocsp-request", accept: "application/ocsp-response" },
      body: der,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    body = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) return unknown(`OCSP: the responder ${url} answered HTTP ${response.status}`);
  } catch (error) {
    const why = error instanceof Error && error.name === "TimeoutError" ? "timed out" : "is unreachable";
    return unknown(`OCSP: the responder ${url} ${why}: revocation status unknown`);
  }
  return judgeOcspResponse(body, cert, issuer, certId, nonce, options.at ?? new Date(), url);
}

/**
 * Checks a DER OCSPResponse for `cert`: its signature (by the CA or a delegated responder), the CertID, the nonce
 * when echoed, the freshness, then the status.
 *
 * @example
 * ```ts
 * import { judgeOcspResponse } from "./ocsp.ts";
 * judgeOcspResponse(responseDer, cert, issuer, certId, nonce, new Date(), "http://ocsp.example/");
 * ```
 */
export function judgeOcspResponse(
  body: Uint8Array,
  cert: CertInfo,
  issuer: CertInfo,
  certId: CertID,
  nonce: Uint8Array,
  now: Date,
  url: string,
): RevocationAnswer {
  let basic: BasicOCSPResponse;
  try {
    const response = AsnConvert.parse(body, OCSPResponse);
    if (response.responseStatus !== OCSPResponseStatus.successful) {
      return unknown(
        `OCSP: the responder refused (${
          OCSPResponseStatus[response.responseStatus] ?? "status " + response.responseStatus
        })`,
      );
    }
    if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) {
      return unknown("OCSP: the response is not a basic OCSP response");
    }
    basic = AsnConvert.parse(response.responseBytes.response.buffer, BasicOCSPResponse);
  } catch {
    return unknown(`OCSP: the answer of ${url} is not a valid OCSP response`);
  }
  const tbs = basic.tbsResponseDataRaw
    ? new Uint8Array(basic.tbsResponseDataRaw)
    : new Uint8Array(AsnConvert.serialize(basic.tbsResponseData));
  const signature = new Uint8Array(basic.signature);
  const signedByCa = checkSignature(issuer.spki, basic.signatureAlgorithm, tbs, signature).ok;
  if (!signedByCa) {
    const delegate = delegatedResponder(basic, issuer, now);
    if (typeof delegate === "string") return unknown(`OCSP: ${delegate}`);
    if (!checkSignature(delegate.spki, basic.signatureAlgorithm, tbs, signature).ok) {
      return unknown(`OCSP: the response signature does not verify with the key of '${delegate.commonName}'`);
    }
  }
  const data = basic.tbsResponseData;
  const echoed = data.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  if (echoed) {
    const expected = new Uint8Array(AsnConvert.serialize(new OctetString(nonce)));
    if (!equalBytes(new Uint8Array(echoed.extnValue.buffer), expected)) {
      return unknown("OCSP: the response carries another request's nonce (a replay?)");
    }
  }
  const single = data.responses.find((r) => sameCertId(r.certID, certId));
  if (!single) return unknown("OCSP: the response does not speak of the signer certificate (no matching CertID)");
  if (single.thisUpdate.getTime() > now.getTime() + SKEW_MS) {
    return unknown("OCSP: the response's thisUpdate lies in the future");
  }
  if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime() - SKEW_MS) {
    return unknown(`OCSP: the response is stale (nextUpdate ${single.nextUpdate.toISOString()})`);
  }
  const status = single.certStatus;
  if (status.good !== undefined) return { status: "good", problems: [] };
  if (status.revoked) {
    const reasonCode = status.revoked.revocationReason?.reason;
    const reason = reasonCode === undefined ? undefined : REVOCATION_REASONS[reasonCode] ?? String(reasonCode);
    return {
      status: "revoked",
      revokedAt: status.revoked.revocationTime,
      reason,
      problems: [
        `the signer certificate '${cert.commonName}' is revoked (OCSP, since ${status.revoked.revocationTime.toISOString()}${
          reason ? `, reason ${reason}` : ""
        })`,
      ],
    };
  }
  return unknown(`OCSP: the responder does not know the signer certificate (serial ${cert.serialNumber})`);
}

function unknown(problem: string): RevocationAnswer {
  return { status: "unknown", problems: [problem] };
}

function certIdOf(cert: CertInfo, issuer: CertInfo): CertID {
  const issuerKey = new Uint8Array(issuer.asn.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: ID_SHA1, parameters: null }),
    issuerNameHash: new OctetString(createHash("sha1").update(cert.issuerDer).digest()),
    issuerKeyHash: new OctetString(createHash("sha1").update(issuerKey).digest()),
    serialNumber: cert.asn.tbsCertificate.serialNumber,
  });
}

function sameCertId(a: CertID, b: CertID): boolean {
  return a.hashAlgorithm.algorithm === b.hashAlgorithm.algorithm &&
    equalBytes(new Uint8Array(a.issuerNameHash.buffer), new Uint8Array(b.issuerNameHash.buffer)) &&
    equalBytes(new Uint8Array(a.issuerKeyHash.buffer), new Uint8Array(b.issuerKeyHash.buffer)) &&
    equalBytes(new Uint8Array(a.serialNumber), new Uint8Array(b.serialNumber));
}

/** The delegated responder certificate in the response, checked; or why there is none that counts. */
function delegatedResponder(basic: BasicOCSPResponse, issuer: CertInfo, now: Date): CertInfo | string {
  const candidates: CertInfo[] = [];
  for (const asn of basic.certs ?? []) {
    try {
      candidates.push(parseCertificate(new Uint8Array(AsnConvert.serialize(asn)), "an OCSP responder certificate"));
    } catch {
      // A certificate that does not parse cannot be the responder.
    }
  }
  if (candidates.length === 0) return "the response is signed neither by the CA nor by a responder it names";
  for (const candidate of candidates) {
    if (!equalBytes(candidate.issuerDer, issuer.subjectDer)) continue;
    if (
      !checkSignature(
        issuer.spki,
        candidate.asn.signatureAlgorithm,
        candidate.tbs,
        new Uint8Array(candidate.asn.signatureValue),
      ).ok
    ) {
      continue;
    }
    if (!candidate.extendedKeyUsage?.includes(id_kp_OCSPSigning)) {
      return `the responder certificate '${candidate.commonName}' is not authorised for OCSP signing (no id-kp-OCSPSigning)`;
    }
    if (now > candidate.notAfter || now < candidate.notBefore) {
      return `the responder certificate '${candidate.commonName}' is not valid now`;
    }
    return candidate;
  }
  return `no responder certificate in the response was issued by '${issuer.commonName}'`;
}
