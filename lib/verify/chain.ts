/**
 * Certificate chain building and checking: from the signer certificate up to a trust anchor, through the
 * intermediates at hand (the CMS certificates, the `--ca` files). Each link is checked by name chaining, by the
 * issuer's signature over the certificate, by basicConstraints cA and keyCertSign on the issuer, and every
 * certificate by its validity at the given time.
 *
 * @example
 * ```ts
 * import { buildChain } from "./chain.ts";
 * const result = buildChain(signer, { anchors, intermediates, at: new Date(), timeSource: "now" });
 * if (!result.valid) console.log(result.problems);
 * ```
 * @module
 */

import { type CertInfo, equalBytes } from "./cert.ts";
import { checkSignature } from "./signature.ts";

/** Where the time certificates are checked at comes from; it words the problems. */
export type TimeSource = "signing-time" | "at" | "now";

/** What the chain check needs besides the signer. */
export interface ChainOptions {
  /** Trusted certificates: a chain is trusted when it reaches one of them. */
  anchors: readonly CertInfo[];
  /** Other certificates that may be issuers on the way. */
  intermediates: readonly CertInfo[];
  /** The time the validity periods are checked at. */
  at: Date;
  timeSource: TimeSource;
}

/** The outcome: the chain from signer to anchor (when found) and every problem met. */
export interface ChainResult {
  valid: boolean;
  /** Signer first, then issuers; ends with the anchor when trusted, else with the last certificate reached. */
  chain: CertInfo[];
  trusted: boolean;
  problems: string[];
}

const MAX_DEPTH = 10;

/**
 * Builds and checks the chain of `signer`.
 *
 * @example
 * ```ts
 * import { buildChain } from "./chain.ts";
 * buildChain(signer, { anchors: [root], intermediates: [ca], at: new Date(), timeSource: "now" }).valid;
 * ```
 */
export function buildChain(signer: CertInfo, options: ChainOptions): ChainResult {
  const search = findPath(signer, options, [signer], 0);
  const problems: string[] = [];
  const chain = search.path ?? search.longest;
  if (!search.path) problems.push(search.why);
  problems.push(...checkValidity(chain, options), ...checkIssuers(chain));
  return { valid: problems.length === 0, chain, trusted: search.path !== undefined, problems };
}

/**
 * Finds the issuer certificate of `cert` among `candidates`: same name, and its key verifies the signature.
 *
 * @example
 * ```ts
 * import { findIssuer } from "./chain.ts";
 * const issuer = findIssuer(signer, [...anchors, ...intermediates]);
 * ```
 */
export function findIssuer(cert: CertInfo, candidates: readonly CertInfo[]): CertInfo | undefined {
  return candidates.find((c) => equalBytes(c.subjectDer, cert.issuerDer) && signedBy(cert, c));
}

interface PathSearch {
  path?: CertInfo[];
  longest: CertInfo[];
  why: string;
}

function findPath(cert: CertInfo, options: ChainOptions, path: CertInfo[], depth: number): PathSearch {
  if (options.anchors.some((a) => equalBytes(a.der, cert.der))) return { path, longest: path, why: "" };
  const named = [...options.anchors, ...options.intermediates].filter((c) =>
    equalBytes(c.subjectDer, cert.issuerDer) && !path.some((p) => equalBytes(p.der, c.der))
  );
  if (cert.selfIssued && signedBy(cert, cert)) {
    return {
      longest: path,
      why: `the chain ends at '${nameOf(cert)}', which is not a trust anchor (give it with --ca, or --test-pki for ` +
        "the virtual card's test root)",
    };
  }
  if (named.length === 0) {
    return {
      longest: path,
      why: `the issuer of '${nameOf(cert)}' ('${cert.issuer}') is neither a trust anchor nor among the ` +
        "certificates at hand: the chain is not trusted (add the CA with --ca)",
    };
  }
  let best: PathSearch | undefined;
  for (const issuer of named) {
    if (!signedBy(cert, issuer)) {
      best ??= {
        longest: path,
        why: `the signature on '${nameOf(cert)}' does not verify with the key of '${nameOf(issuer)}'`,
      };
      continue;
    }
    const longer = [...path, issuer];
    if (options.anchors.some((a) => equalBytes(a.der, issuer.der))) return { path: longer, longest: longer, why: "" };
    if (depth + 1 >= MAX_DEPTH) return { longest: longer, why: "the chain is longer than kortti follows" };
    const found = findPath(issuer, options, longer, depth + 1);
    if (found.path) return found;
    if (!best || found.longest.length > best.longest.length) best = found;
  }
  return best!;
}

function signedBy(cert: CertInfo, issuer: CertInfo): boolean {
  return checkSignature(
    issuer.spki,
    cert.asn.signatureAlgorithm,
    cert.tbs,
    new Uint8Array(cert.asn.signatureValue),
  ).ok;
}

function checkValidity(chain: readonly CertInfo[], options: ChainOptions): string[] {
  const when = options.timeSource === "signing-time"
    ? `the signing time ${iso(options.at)}`
    : options.timeSource === "at"
    ? `the --at time ${iso(options.at)}`
    : `now (${iso(options.at)})`;
  const problems: string[] = [];
  for (const cert of chain) {
    if (options.at > cert.notAfter) {
      problems.push(`the certificate '${nameOf(cert)}' expired on ${iso(cert.notAfter)}, before ${when}`);
    } else if (options.at < cert.notBefore) {
      problems.push(`the certificate '${nameOf(cert)}' is valid only from ${iso(cert.notBefore)}, after ${when}`);
    }
  }
  return problems;
}

function checkIssuers(chain: readonly CertInfo[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < chain.length; i++) {
    const issuer = chain[i];
    if (!issuer.isCa) {
      problems.push(`'${nameOf(issuer)}' issued a certificate but is not a CA (no basicConstraints cA)`);
    }
    if (issuer.keyUsage && !issuer.keyUsage.includes("keyCertSign")) {
      problems.push(`'${nameOf(issuer)}' issued a certificate but its key usage lacks keyCertSign`);
    }
    // pathLenConstraint counts the non-self-issued intermediates below this issuer.
    const below = chain.slice(1, i).filter((c) => !c.selfIssued).length;
    if (issuer.pathLength !== undefined && below > issuer.pathLength) {
      problems.push(
        `'${nameOf(issuer)}' allows ${issuer.pathLength} intermediate CA(s) below it, the chain has ${below}`,
      );
    }
  }
  return problems;
}

/** `2026-12-04 10:12:00 UTC` style, for problems. */
function iso(date: Date): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/**
 * How a certificate is named in problems: its common name, which is what a person recognises.
 *
 * @example
 * ```ts
 * import { nameOf } from "./chain.ts";
 * nameOf(signer); // "MEIKÄLÄINEN-TEST MATTI 99999991C"
 * ```
 */
export function nameOf(cert: CertInfo): string {
  return cert.commonName;
}
