/**
 * The signing core of `kortti sign` and `kortti serve`: hashes the input as a stream, builds what the card signs
 * (the bare digest, or the hash of CMS signed attributes), lets the card verify the PIN and sign, and shapes the
 * result (raw, CMS detached or embedded, PAdES CMS) with the signer's certificate chain.
 *
 * @example
 * ```ts
 * import { signWithCard } from "./mod.ts";
 * import { pinProviderFrom } from "../pin.ts";
 * import type { Card } from "../card/card.ts";
 * declare const card: Card;
 * const result = await signWithCard({ card, key: "sign", format: "cms-detached", input: { path: "contract.pdf" },
 *   pin: pinProviderFrom({ pinEnv: "KORTTI_PIN" }) });
 * Deno.writeFileSync("contract.p7s", result.output);
 * ```
 * @module
 */

import type { Card, CardCertificate, HashName, KeyName, PinProvider, SignatureScheme } from "../card/card.ts";
import { certificateFacts, defaultHashOf } from "../card/cert-facts.ts";
import { NoMatchingKeyError, UsageError } from "../errors.ts";
import { buildChain, defaultCaDirectories, loadCertificates } from "./chain.ts";
import { DIGEST_LENGTH, hashBytes, hashPath, readAndHash, type ReadContent } from "./hash.ts";
import { concat, ecdsaRawToDer, signatureAlgorithmName } from "./raw.ts";

export { DIGEST_LENGTH, hashBytes, hashPath, isHashName } from "./hash.ts";
export { ecdsaDerToRaw, ecdsaRawToDer, signatureAlgorithmName } from "./raw.ts";
export { buildChain, defaultCaDirectories, loadCertificates, pemCertificates } from "./chain.ts";

/** Output formats of `kortti sign --format`. */
export type SignFormat = "cms-detached" | "cms" | "cms-pades" | "raw";

/** The formats, for option parsing. */
export const SIGN_FORMATS: readonly SignFormat[] = ["cms-detached", "cms", "cms-pades", "raw"];

/** What to sign and how. */
export interface SignWithCardOptions {
  /** The card. */
  card: Card;
  /** `sign` (qualified, PIN2) or `auth` (PIN1). */
  key: KeyName;
  /** Output format. */
  format: SignFormat;
  /** Hash; by default the key's (P-384: sha384; P-256 and RSA: sha256). */
  hash?: HashName;
  /** The data: a file (`-` for standard input) or bytes. Not with `digest`. */
  input?: { path: string } | { bytes: Uint8Array };
  /** A precomputed hash instead of `input` (a PDF's byte-range digest for `cms-pades`); its length must fit `hash`. */
  digest?: Uint8Array;
  /** RSA keys: PKCS#1 v1.5 or PSS. Default: PSS for the v3 authentication key (it can do nothing else), else PKCS#1. */
  rsaPadding?: "pkcs1" | "pss";
  /** `raw` format with ECDSA: `r‖s` (default) or DER. */
  encoding?: "raw" | "der";
  /** Gives the PIN right before VERIFY. */
  pin: PinProvider;
  /** Spend the last PIN try. */
  allowLastTry?: boolean;
  /** CMS signing-time; default now (never in `cms-pades`). */
  signingTime?: Date;
  /** More CA certificates (DER) to build the chain from, besides the data directory and the test PKI. */
  extraCertificates?: Uint8Array[];
  /** Progress of hashing a long input. */
  onProgress?: (p: { bytes: number; total?: number }) => void;
}

/** A signature and what it was made with. */
export interface SignResult {
  /** The signature (raw) or the DER CMS ContentInfo. */
  output: Uint8Array;
  /** Its format. */
  format: SignFormat;
  /** SCS API name: `SHA384withECDSA`, `SHA256withRSA`, `SHA256withRSAandMGF1`. */
  signatureAlgorithm: string;
  /** The signer's certificate on the card. */
  certificate: CardCertificate;
  /** The certificate chain, end-entity first, DER. */
  chain: Uint8Array[];
  /** The hash of the content (what a raw signature signs; the CMS message-digest). */
  digest: Uint8Array;
  /** The hash algorithm. */
  hash: HashName;
}

/**
 * Signs with the card. Throws the typed errors of lib/errors.ts: `UsageError` for a digest of the wrong length or
 * missing input, `IoError` for an unreadable input, `NoMatchingKeyError` when the card has no such key, and the
 * card's PIN and card errors.
 *
 * @example
 * ```ts
 * import { signWithCard } from "./mod.ts";
 * import type { Card } from "../card/card.ts";
 * declare const card: Card;
 * const { output, signatureAlgorithm } = await signWithCard({ card, key: "sign", format: "raw",
 *   digest: new Uint8Array(48), hash: "sha384", pin: () => Promise.resolve(new TextEncoder().encode("123456")) });
 * ```
 */
export async function signWithCard(o: SignWithCardOptions): Promise<SignResult> {
  if (o.digest && o.input) throw new UsageError("give either the input or a digest, not both");
  if (!o.digest && !o.input) throw new UsageError("nothing to sign: give an input or a digest");
  if (o.digest && o.format === "cms") {
    throw new UsageError("--format cms embeds the content, so it needs the input, not a digest", {
      hint: "use --format cms-detached with --digest, or give --in FILE",
    });
  }
  const certificate = (await o.card.certificates([o.key])).find((c) => c.key === o.key);
  if (!certificate) {
    throw new NoMatchingKeyError(`the card has no ${o.key === "sign" ? "signature" : "authentication"} key`);
  }
  const facts = certificateFacts(certificate.der);
  if (facts.keyType === "unknown") {
    throw new NoMatchingKeyError(`the ${o.key} key's algorithm is not one kortti signs with (${facts.keyAlgorithm})`);
  }
  const scheme: SignatureScheme = facts.keyType === "ec"
    ? "ecdsa"
    : o.rsaPadding ?? (o.card.family === "fineid-v3" && o.key === "auth" ? "pss" : "pkcs1");
  const hash = o.hash ?? defaultHashOf(certificate.der);
  if (o.digest && o.digest.length !== DIGEST_LENGTH[hash]) {
    throw new UsageError(
      `the digest is ${o.digest.length} bytes but a ${hash} digest is ${DIGEST_LENGTH[hash]} bytes`,
      { hint: "give --hash matching the digest (sha256: 32, sha384: 48, sha512: 64 bytes)" },
    );
  }

  let content: Uint8Array | undefined;
  let embedded: ReadContent | undefined;
  let digest: Uint8Array;
  const input = o.input;
  if (o.digest || !input) {
    digest = o.digest!;
  } else if ("bytes" in input) {
    if (o.format === "cms") content = input.bytes;
    digest = hashBytes(input.bytes, hash);
  } else if (o.format === "cms") {
    // The content goes into the output: read it once into a buffer with room for the DER around it.
    const room = { headRoom: HEAD_ROOM, tailRoom: TAIL_ROOM, onProgress: o.onProgress };
    embedded = await readAndHash(input.path, hash, room);
    digest = embedded.digest;
  } else {
    digest = await hashPath(input.path, hash, { onProgress: o.onProgress });
  }

  const chain = buildChain(certificate.der, [
    ...(o.extraCertificates ?? []),
    ...loadCertificates(defaultCaDirectories()),
  ]);
  const holder = facts.subjectCommonName;
  const pin: PinProvider = (request) => o.pin(holder && !request.holder ? { ...request, holder } : request);
  const sign = (toSign: Uint8Array) =>
    o.card.sign({ key: o.key, digest: toSign, hash, scheme, pin, allowLastTry: o.allowLastTry });

  let output: Uint8Array;
  if (o.format === "raw") {
    const signature = await sign(digest);
    output = scheme === "ecdsa" && o.encoding === "der" ? ecdsaRawToDer(signature) : signature;
  } else {
    const parts = { certificate: certificate.der, chain, hash, scheme, messageDigest: digest };
    const prepared = o.format === "cms-pades"
      ? (await import("./pades.ts")).preparePadesSignature(parts)
      : (await import("./cms.ts")).prepareSignedData({ ...parts, content, signingTime: o.signingTime ?? new Date() });
    const signature = await sign(prepared.digestToSign);
    output = embedded
      ? around(embedded, prepared.finishAround(signature, embedded.length))
      : prepared.finish(signature);
  }
  return {
    output,
    format: o.format,
    signatureAlgorithm: signatureAlgorithmName(hash, scheme),
    certificate,
    chain,
    digest,
    hash,
  };
}

/** Room kept before embedded content for the DER headers (about 80 bytes), and after it for certificates. */
const HEAD_ROOM = 256;
const TAIL_ROOM = 64 * 1024;

/** `prefix ‖ content ‖ suffix`, written around the content in its own buffer when there is room (no copy). */
function around(read: ReadContent, { prefix, suffix }: { prefix: Uint8Array; suffix: Uint8Array }): Uint8Array {
  const end = read.start + read.length;
  if (prefix.length > read.start || suffix.length > read.buffer.length - end) {
    return concat(prefix, read.buffer.subarray(read.start, end), suffix);
  }
  read.buffer.set(prefix, read.start - prefix.length);
  read.buffer.set(suffix, end);
  return read.buffer.subarray(read.start - prefix.length, end + suffix.length);
}
