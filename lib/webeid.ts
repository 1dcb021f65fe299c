/**
 * Origin-bound authentication tokens in the public Web eID format (`web-eid:1.0`), made with the card's
 * authentication key, so that existing Web eID server-side validation libraries accept them:
 *
 * ```json
 * {"unverifiedCertificate":"<base64 DER>","algorithm":"ES384","signature":"<base64>",
 *  "format":"web-eid:1.0","appVersion":"https://kortti.invalid/releases/0.1.0"}
 * ```
 *
 * The signature is over `hash(origin) ‖ hash(challenge)`, where both are hashed as UTF-8 text with the hash of the
 * algorithm (SHA-384 for ES384) and the challenge is the base64 text exactly as the server issued it. ECDSA
 * signatures are raw `r ‖ s` (as in JWS), RSA ones PSS (PS256, MGF1 SHA-256, salt 32) or PKCS#1 v1.5 (RS256).
 *
 * @example
 * ```ts
 * import { createWebEidToken } from "./webeid.ts";
 * import type { Card, PinProvider } from "./card/card.ts";
 * declare const card: Card;
 * declare const pin: PinProvider;
 * const token = await createWebEidToken({ card, origin: "https://rp.example.fi", challenge: btoa("n".repeat(32)), pin });
 * ```
 * @module
 */

import type { Card, HashName, PinRequest, SignatureScheme } from "./card/card.ts";
import { certificateFacts } from "./card/cert-facts.ts";
import { NoMatchingKeyError, UsageError } from "./errors.ts";
import { hashBytes } from "./sign/hash.ts";
import { VERSION } from "./version.ts";

/** The token format this module makes. */
export const WEB_EID_FORMAT = "web-eid:1.0";

/** Where kortti's releases are named in `appVersion` (a placeholder host until the project has a home page). */
export const APP_VERSION = `https://kortti.invalid/releases/${VERSION}`;

/** The least challenge size, in decoded bytes (Web eID servers issue 32 random bytes or more). */
export const MIN_CHALLENGE_BYTES = 32;

/** The longest challenge accepted, in characters: enough for any nonce, and bounded. */
export const MAX_CHALLENGE_LENGTH = 1024;

/** A Web eID authentication token. */
export interface WebEidToken {
  /** The authentication certificate, base64 DER. */
  unverifiedCertificate: string;
  /** JWS name of the signature algorithm: `ES256`, `ES384`, `ES512`, `PS256` or `RS256`. */
  algorithm: WebEidAlgorithmName;
  /** The signature, base64. */
  signature: string;
  /** Always `web-eid:1.0`. */
  format: typeof WEB_EID_FORMAT;
  /** What made it: kortti and its version, as a URL. */
  appVersion: string;
}

/** JWS algorithm names a token can carry. */
export type WebEidAlgorithmName = "ES256" | "ES384" | "ES512" | "PS256" | "RS256";

/** A token algorithm and how the card makes it. */
export interface WebEidAlgorithm {
  /** JWS name. */
  name: WebEidAlgorithmName;
  /** The hash of the origin, the challenge and their concatenation. */
  hash: HashName;
  /** The card's signature scheme. */
  scheme: SignatureScheme;
}

/**
 * The algorithms the authentication certificate's key can make, preferred first: for EC the one of its curve;
 * for RSA PS256 (what FINEID v3 cards do for authentication), then RS256 for cards without PSS.
 *
 * @example
 * ```ts
 * import { algorithmsFor } from "./webeid.ts";
 * declare const certificateDer: Uint8Array;
 * console.log(algorithmsFor(certificateDer).map((a) => a.name)); // ["ES384"] on a FINEID v4 card
 * ```
 */
export function algorithmsFor(certificateDer: Uint8Array): WebEidAlgorithm[] {
  const facts = certificateFacts(certificateDer);
  if (facts.keyType === "rsa") {
    return [{ name: "PS256", hash: "sha256", scheme: "pss" }, { name: "RS256", hash: "sha256", scheme: "pkcs1" }];
  }
  if (facts.keyType === "ec") {
    if (facts.curve === "P-256") return [{ name: "ES256", hash: "sha256", scheme: "ecdsa" }];
    if (facts.curve === "P-384") return [{ name: "ES384", hash: "sha384", scheme: "ecdsa" }];
    if (facts.curve === "P-521") return [{ name: "ES512", hash: "sha512", scheme: "ecdsa" }];
  }
  throw new NoMatchingKeyError(`the authentication key (${facts.keyAlgorithm}) has no Web eID algorithm`);
}

/**
 * Checks a challenge: base64 (standard or URL-safe alphabet, padding optional) of at least 32 bytes, at most 1024
 * characters. Returns it unchanged (it is signed as the text it is). Throws `UsageError` otherwise.
 *
 * @example
 * ```ts
 * import { checkChallenge } from "./webeid.ts";
 * checkChallenge(btoa("x".repeat(32))); // fine
 * ```
 */
export function checkChallenge(challenge: unknown): string {
  if (typeof challenge !== "string" || challenge === "") {
    throw new UsageError('the challenge is missing: send {"challenge": "<base64 of at least 32 random bytes>"}');
  }
  if (challenge.length > MAX_CHALLENGE_LENGTH) {
    throw new UsageError(`the challenge is longer than ${MAX_CHALLENGE_LENGTH} characters`);
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(challenge) || challenge.replace(/=+$/, "").length % 4 === 1) {
    throw new UsageError("the challenge is not base64");
  }
  const bytes = Math.floor(challenge.replace(/=+$/, "").length * 3 / 4);
  if (bytes < MIN_CHALLENGE_BYTES) {
    throw new UsageError(`the challenge holds ${bytes} bytes; at least ${MIN_CHALLENGE_BYTES} random bytes are needed`);
  }
  return challenge;
}

/**
 * The data a token signs, `hash(origin) ‖ hash(challenge)` (UTF-8 text, the algorithm's hash).
 *
 * @example
 * ```ts
 * import { signedData } from "./webeid.ts";
 * signedData("https://rp.example.fi", "AAAA…", "sha384").length; // 96
 * ```
 */
export function signedData(origin: string, challenge: string, hash: HashName): Uint8Array {
  const encoder = new TextEncoder();
  const originHash = hashBytes(encoder.encode(origin), hash);
  const challengeHash = hashBytes(encoder.encode(challenge), hash);
  const data = new Uint8Array(originHash.length + challengeHash.length);
  data.set(originHash, 0);
  data.set(challengeHash, originHash.length);
  return data;
}

/** What is being signed when the PIN is asked for. */
export interface WebEidSigning {
  /** The digest the card signs: hash(hash(origin) ‖ hash(challenge)). */
  digest: Uint8Array;
  /** Its hash algorithm. */
  hash: HashName;
  /** The token algorithm. */
  algorithm: WebEidAlgorithmName;
}

/** Gives PIN1 for a token, right before VERIFY. */
export type WebEidPinProvider = (request: PinRequest, signing: WebEidSigning) => Promise<Uint8Array>;

/** What `createWebEidToken` needs. */
export interface WebEidTokenRequest {
  /** The card. */
  card: Card;
  /** The web origin the token is for: the request's Origin, already judged allowed. */
  origin: string;
  /** The server's challenge nonce (checked with `checkChallenge`). */
  challenge: string;
  /** Asked for PIN1 right before VERIFY; told what is being signed, for the dialog. A plain `PinProvider` fits. */
  pin: WebEidPinProvider;
  /** Spend the last PIN try if it is the only one left. */
  allowLastTry?: boolean;
}

/**
 * Makes a Web eID token with the card's authentication key (one PIN1 VERIFY).
 *
 * @example
 * ```ts
 * import { createWebEidToken } from "./webeid.ts";
 * import type { Card, PinProvider } from "./card/card.ts";
 * declare const card: Card;
 * declare const pin: PinProvider;
 * const token = await createWebEidToken({ card, origin: "https://rp.example.fi", challenge: btoa("n".repeat(32)), pin });
 * console.log(token.algorithm);
 * ```
 */
export async function createWebEidToken(request: WebEidTokenRequest): Promise<WebEidToken> {
  const challenge = checkChallenge(request.challenge);
  const [certificate] = await request.card.certificates(["auth"]);
  if (!certificate) throw new NoMatchingKeyError("the card has no authentication certificate");
  const candidates = algorithmsFor(certificate.der);
  for (const [index, algorithm] of candidates.entries()) {
    const digest = hashBytes(signedData(request.origin, challenge, algorithm.hash), algorithm.hash);
    try {
      const signature = await request.card.sign({
        key: "auth",
        digest,
        hash: algorithm.hash,
        scheme: algorithm.scheme,
        pin: (pinRequest) => request.pin(pinRequest, { digest, hash: algorithm.hash, algorithm: algorithm.name }),
        allowLastTry: request.allowLastTry,
      });
      return {
        unverifiedCertificate: base64(certificate.der),
        algorithm: algorithm.name,
        signature: base64(signature),
        format: WEB_EID_FORMAT,
        appVersion: APP_VERSION,
      };
    } catch (error) {
      // A key without this scheme is refused before any PIN is asked: try the next algorithm.
      if (!(error instanceof NoMatchingKeyError) || index === candidates.length - 1) throw error;
    }
  }
  throw new NoMatchingKeyError("the authentication key makes none of the Web eID algorithms");
}

function base64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}
