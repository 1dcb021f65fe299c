/**
 * The SCS (Signature Creation Service) message types, as the Atostek ID integration guide's toolkit names them and
 * as public clients and servers use them (docs/scs-api.md). Plain types: usable from Deno and from a browser.
 *
 * @example
 * ```ts
 * import type { SCSSignRequest } from "./types.ts";
 * const request: SCSSignRequest = {
 *   version: "1.1",
 *   selector: { keyusages: ["nonrepudiation"] },
 *   content: btoa("hello"),
 *   contentType: "data",
 *   hashAlgorithm: "SHA256",
 *   signatureType: "cms",
 * };
 * ```
 * @module
 */

/** Which certificate (and so which key) the client wants. Every field is optional. */
export interface SCSSelector {
  /** Issuer distinguished names, e.g. `CN=DVV Citizen Certificates - G4R, ..., C=FI`. */
  issuers?: string[];
  /** Authority key identifiers, base64. */
  akis?: string[];
  /** `digitalsignature` (authentication key) or `nonrepudiation` (qualified signature key), any case. */
  keyusages?: string[];
  /** `rsa`, `ec` or `ecdsa`, any case. */
  keyalgorithms?: string[];
  /** When true, a certificate matches `keyusages` only if it has exactly the usages asked for. */
  strictKeypolicy?: boolean;
}

/** What is signed: `data` is hashed by the service, `digest` is already the hash. */
export type SCSContentType = "data" | "digest";

/** `signature` (raw), `cms` (CMS SignedData) or `cms-pades` (detached CMS for a PDF signature). */
export type SCSSignatureType = "signature" | "cms" | "cms-pades";

/** A request to `POST /sign` (or `GET /sign` with the same fields as query parameters). */
export interface SCSSignRequest {
  /** Protocol version the client speaks: `1.0`, `1.1` or `1.3`. */
  version: string;
  /** Which certificate to use. */
  selector?: SCSSelector;
  /** What is signed, base64. */
  content: string;
  /** `data` or `digest`. */
  contentType: SCSContentType;
  /** `SHA256`, `SHA384` or `SHA512` (`SHA1` and `SHA224` exist in the protocol but are refused). */
  hashAlgorithm: string;
  /** `signature`, `cms` or `cms-pades`. */
  signatureType: SCSSignatureType;
  /** Optional key algorithm the client expects: `rsa`, `ecdsa`. */
  signatureAlgorithm?: string;
}

/** The answer of `/sign`: `status` is `ok` (with the signature fields) or `failed`. */
export interface SCSSignResponse {
  /** Protocol version of the answer. */
  version: string;
  /** `ok` or `failed`. */
  status: "ok" | "failed";
  /** 200 on success; see the README for kortti's reason codes. */
  reasonCode: number;
  /** Human-readable reason. */
  reasonText: string;
  /** The signature or CMS, base64 (only when `status` is `ok`). */
  signature?: string;
  /** The signature type made. */
  signatureType?: string;
  /** `<HASH>with<RSA|ECDSA>`, e.g. `SHA384withECDSA`, `SHA256withRSAandMGF1` for PSS. */
  signatureAlgorithm?: string;
  /** Certificates, base64 DER, end-user certificate first. */
  chain?: string[];
}

/** The answer of `GET /version`. List fields are comma-separated strings. */
export interface SCSVersionResponse {
  /** `1.3` (older servers: `1.1`). */
  version: string;
  /** e.g. `GET, POST`. */
  httpMethods: string;
  /** e.g. `data, digest`. */
  contentTypes: string;
  /** e.g. `signature, cms, cms-pades`. */
  signatureTypes: string;
  /** Whether the selector is honoured. */
  selectorAvailable: boolean;
  /** e.g. `SHA256, SHA384, SHA512`. */
  hashAlgorithms: string;
  /** e.g. `RSA, ECDSA` (the Atostek toolkit calls it `signatureAlgorithm`; both are read). */
  signatureAlgorithms: string;
  /** Application OIDs, comma-separated, often empty. */
  applicationOIDs?: string;
}

/** HTTP methods `serializeSCSSignRequest` can serialize for. */
export type SCSMethod = "POST" | "GET";
