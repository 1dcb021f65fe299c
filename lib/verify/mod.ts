/**
 * `kortti verify` as a library: checks a CMS (detached or attached) or raw signature, the signer certificate's key
 * usage, its chain to a trust anchor at the signing time, and optionally its revocation (OCSP, CRL files). Each
 * check is reported separately; nothing here prints or exits.
 *
 * This entry stays light: for a large detached content it starts hashing in a worker first (the digest algorithm
 * read from the CMS's digestAlgorithms without parsing it all), then loads the ASN.1/X.509 machinery and checks
 * everything else while the hash runs.
 *
 * @example
 * ```ts
 * import { verifySignature } from "./mod.ts";
 * const report = await verifySignature({ input: "contract.pdf", signature: "contract.p7s", testPki: true });
 * console.log(report.valid, report.problems);
 * ```
 * @module
 */

import { hashFileInWorker } from "./hash.ts";
import type { VerifyOptions, VerifyReport } from "./options.ts";

export { defaultTrustDir } from "./options.ts";
export type { SignerReport, VerifyFormat, VerifyOptions, VerifyReport } from "./options.ts";

/** Below this size the content is hashed on the main thread: a worker's start-up would cost more than it saves. */
const WORKER_THRESHOLD = 32 * 1024 * 1024;

/** DER of the OID prefix 2.16.840.1.101.3.4.2 (NIST hash algorithms), then the last arc. */
const NIST_HASH_PREFIX = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02];
const NIST_HASH_NAMES: Record<number, string> = { 1: "sha256", 2: "sha384", 3: "sha512", 4: "sha224" };

/**
 * Verifies a signature and reports every check. Throws `UsageError` (exit 2) for contradictory options and
 * `IoError`/`InputFormatError` (exit 7) for unreadable or malformed files; a signature that does not hold is a
 * report with `valid: false`, not an error.
 *
 * @example
 * ```ts
 * import { verifySignature } from "./mod.ts";
 * const r = await verifySignature({ input: "data.bin", signature: "data.p7s", caFiles: ["root.pem"] });
 * if (!r.valid) console.log(r.problems.join("\n"));
 * ```
 */
export async function verifySignature(options: VerifyOptions): Promise<VerifyReport> {
  const ahead = options.contentDigests ?? startHashAhead(options);
  const { verifyNow } = await import("./verify.ts");
  return await verifyNow(ahead ? { ...options, contentDigests: ahead } : options);
}

/** Starts hashing a large detached content in a worker with the algorithm the CMS names; undefined when unfit. */
function startHashAhead(options: VerifyOptions) {
  if (!options.signature || options.format === "raw") return undefined;
  try {
    if (Deno.statSync(options.input).size < WORKER_THRESHOLD) return undefined;
    const head = new Uint8Array(512);
    const file = Deno.openSync(options.signature);
    const n = file.readSync(head) ?? 0;
    file.close();
    const algorithm = firstNistHash(head.subarray(0, n));
    return algorithm ? hashFileInWorker(options.input, [algorithm]) : undefined;
  } catch {
    // Any problem here is met again, and reported, by the full verification.
    return undefined;
  }
}

/** The first NIST hash OID in a DER CMS: the SignedData's digestAlgorithms come before everything else. */
function firstNistHash(bytes: Uint8Array): string | undefined {
  outer: for (let i = 0; i + NIST_HASH_PREFIX.length < bytes.length; i++) {
    for (let j = 0; j < NIST_HASH_PREFIX.length; j++) if (bytes[i + j] !== NIST_HASH_PREFIX[j]) continue outer;
    return NIST_HASH_NAMES[bytes[i + NIST_HASH_PREFIX.length]];
  }
  return undefined;
}
