/**
 * The options and the report of `kortti verify` (docs/cli.md), and where default trust anchors live. Light on
 * purpose: no ASN.1 or X.509 imports, so that the entry module can start hashing before the heavy parts load.
 *
 * @example
 * ```ts
 * import { defaultTrustDir, type VerifyOptions } from "./options.ts";
 * const options: VerifyOptions = { input: "a.pdf", signature: "a.p7s", trustDir: defaultTrustDir() };
 * ```
 * @module
 */

/** The signature formats `verify` reads. */
export type VerifyFormat = "cms-detached" | "cms" | "raw";

/** What to verify and against what. */
export interface VerifyOptions {
  /** `--in`: the content; or, without `signature`, the CMS with the content inside. */
  input: string;
  /** `--sig`: the signature file. */
  signature?: string;
  /** `--format`; detected when omitted. */
  format?: VerifyFormat;
  /** `--cert`: the signer certificate (needed for raw signatures; a fallback for a CMS without it). */
  cert?: string;
  /** `--ca`: PEM files of trust anchors (self-signed) and intermediates. */
  caFiles?: readonly string[];
  /** Where default trust anchors live (`$XDG_DATA_HOME/kortti/trust`); `null` for none. */
  trustDir?: string | null;
  /** `--test-pki`: trust the virtual card's test root. */
  testPki?: boolean;
  /** `--ocsp`: ask the responder in the signer certificate's AIA. */
  ocsp?: boolean;
  /** OCSP responder URL overriding the AIA one (tests). */
  ocspUrl?: string;
  /** `--crl`: CRL files. */
  crlFiles?: readonly string[];
  /** `--at`: check validity at this time instead of the signing time. */
  at?: Date;
  /** The current time (tests); default now. */
  now?: Date;
  /** Digests of the content computed ahead (by `mod.ts`, in a worker, while the rest loads). */
  contentDigests?: Promise<PrecomputedDigests>;
}

/** Content digests computed ahead of parsing, or the error reading the content met. */
export type PrecomputedDigests = { digests: Map<string, Uint8Array> } | { error: unknown };

/** The signer as `--json` shows it. */
export interface SignerReport {
  /** The certificate's subject, readable, e.g. `CN=MEIKÄLÄINEN MATTI 99999999X, C=FI`. */
  subject: string;
  /** The issuer's name, in the same form. */
  issuer: string;
  /** The subject's common name (the whole subject when it has none). */
  commonName: string;
  /** Serial number, lowercase hex. */
  serialNumber: string;
  /** Start of the validity period, ISO 8601. */
  notBefore: string;
  /** End of the validity period, ISO 8601. */
  notAfter: string;
  /** Key usage bit names; null when the certificate has no keyUsage extension (every use allowed). */
  keyUsage: string[] | null;
  /** Signed with a nonRepudiation (qualified signature) key. */
  qualified: boolean;
  /** The certificate declares EU qualified-certificate compliance (QcCompliance). */
  qcCompliance: boolean;
}

/** The verdict and each check separately (docs/cli.md `verify --json`). */
export interface VerifyReport {
  /** The verdict: signature, chain and signing key usage hold, the content matches, the signer is not revoked. */
  valid: boolean;
  /** The signature verifies with the signer's key over this content. */
  signatureValid: boolean;
  /**
   * The signer certificate chains to a trust anchor through certificates fit to issue, each valid at `at`, else at
   * the signing time, else now.
   */
  chainValid: boolean;
  /** The signer certificate; null when it is neither in the signature nor given with `cert`. */
  signer: SignerReport | null;
  /** The signed signing-time attribute, ISO 8601; null when there is none (raw signatures never have one). */
  signingTime: string | null;
  /** What OCSP and the CRL files said; `not-checked` when neither `ocsp` nor `crlFiles` was asked for. */
  revocation: "good" | "revoked" | "unknown" | "not-checked";
  /** What did not hold or could not be checked, one sentence each, for people (a valid report may have notes). */
  problems: string[];
  /** The format verified: the one given, or the one detected. */
  format: VerifyFormat;
  /** The signature scheme, e.g. `SHA256withECDSA`; null when it is unsupported, or a failed raw check left it open. */
  signatureAlgorithm: string | null;
  /** Signer first, up to the trust anchor (subjects). */
  chain: string[];
}

/**
 * The default directory of trust anchors: `$XDG_DATA_HOME/kortti/trust` (or `~/.local/share/kortti/trust`).
 *
 * @example
 * ```ts
 * import { defaultTrustDir } from "./options.ts";
 * defaultTrustDir(); // "/home/me/.local/share/kortti/trust"
 * ```
 */
export function defaultTrustDir(): string | null {
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  const base = env("XDG_DATA_HOME") || (env("HOME") ? `${env("HOME")}/.local/share` : undefined);
  return base ? `${base}/kortti/trust` : null;
}
