/**
 * The SCS routes (docs/scs-api.md): `GET /version`, `POST /sign` and `GET /sign`. They only adapt HTTP: parse and
 * check the request, choose the key, bind authentication-key data to the origin, then queue one signature through
 * the shared signing core with the PIN dialog, and shape the answer. The guard of `server.ts` has already checked
 * Host and Origin.
 *
 * @example
 * ```ts
 * import { createScsApp } from "./scs.ts";
 * import type { ServeContext } from "./server.ts";
 * declare const ctx: ServeContext;
 * const app = createScsApp(ctx);
 * const answer = await app.fetch(new Request("https://localhost:53952/version"));
 * console.log(await answer.json());
 * ```
 * @module
 */

import { Hono } from "hono";
import { createHash } from "node:crypto";
import type { PinProvider } from "../card/card.ts";
import {
  KorttiError,
  NoMatchingKeyError,
  PinBlockedError,
  PinCancelledError,
  PinFormatError,
  PinLastTryError,
  PinWrongError,
} from "../errors.ts";
import { failure, jsonAnswer, ReasonCode, SCS_VERSION } from "./answers.ts";
import { BodyTooLargeError, readBodyLimited } from "./body.ts";
import { isCardLevelFailure } from "./card-access.ts";
import { isOriginBound } from "./policy.ts";
import { QueueFullError } from "./queue.ts";
import { parseSignJson, parseSignQuery, RequestError, type SignRequest } from "./request.ts";
import { keyForSelector, matchCertificate } from "./selector.ts";
import { type FetchApp, type ServeContext, type ServeSignOptions, tooLarge } from "./server.ts";

/** The answer of `GET /version`. */
export const VERSION_ANSWER = {
  version: SCS_VERSION,
  httpMethods: "GET, POST",
  contentTypes: "data, digest",
  signatureTypes: "signature, cms, cms-pades",
  selectorAvailable: true,
  hashAlgorithms: "SHA256, SHA384, SHA512",
  signatureAlgorithms: "RSA, ECDSA",
  applicationOIDs: "",
} as const;

const VERSION_TEXT = JSON.stringify(VERSION_ANSWER);

/** The `/version` answer (its JSON made once: it is the most frequent request). */
function versionAnswer(): Response {
  return new Response(VERSION_TEXT, {
    headers: { "Content-Type": "application/json; charset=utf-8" },
  });
}

const DIGEST_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;

/**
 * The SCS Hono app.
 *
 * @example
 * ```ts
 * import { createScsApp } from "./scs.ts";
 * import type { ServeContext } from "./server.ts";
 * declare const ctx: ServeContext;
 * Deno.serve(createScsApp(ctx).fetch);
 * ```
 */
export function createScsApp(ctx: ServeContext): FetchApp {
  const app = new Hono();
  app.get("/version", () => versionAnswer());
  app.post("/sign", async (c) => {
    const contentType = c.req.header("content-type") ?? "";
    if (/application\/jwt/i.test(contentType)) {
      return jsonAnswer(failure(ReasonCode.unsupported, "JWT transactions are not supported"));
    }
    let text: string;
    try {
      text = await readBodyLimited(c.req.raw, ctx.bodyLimit);
    } catch (e) {
      if (e instanceof BodyTooLargeError) return tooLarge(ctx.bodyLimit);
      return jsonAnswer(failure(ReasonCode.badRequest, "the body is not UTF-8 text"));
    }
    return await answerSign(ctx, () => parseSignJson(text), c.req.header("origin"));
  });
  app.get(
    "/sign",
    (c) => answerSign(ctx, () => parseSignQuery(new URL(c.req.url).searchParams), c.req.header("origin")),
  );
  app.notFound((c) => jsonAnswer(failure(404, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, null), 404));
  app.onError((e) => {
    ctx.log(`kortti serve: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return jsonAnswer(failure(ReasonCode.cardError, "internal error"), 500);
  });
  // `/version` is what pages poll: answer it without the router (a few microseconds on each of many requests).
  return {
    fetch: (request) => request.method === "GET" && isVersionPath(request.url) ? versionAnswer() : app.fetch(request),
  };
}

function isVersionPath(url: string): boolean {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  return start >= 0 && url.startsWith("/version", start) &&
    (url.length === start + 8 || url[start + 8] === "?");
}

/**
 * Handles one sign request (already parsed lazily by `parse`) for the given origin and returns the JSON answer.
 * Exported for the erasmartcard listener, which serves the same operation.
 *
 * @example
 * ```ts
 * import { answerSign } from "./scs.ts";
 * import { parseSignJson } from "./request.ts";
 * import type { ServeContext } from "./server.ts";
 * declare const ctx: ServeContext, body: string;
 * const response = await answerSign(ctx, () => parseSignJson(body), "https://app.example.fi");
 * ```
 */
export async function answerSign(
  ctx: ServeContext,
  parse: () => SignRequest,
  origin: string | undefined,
): Promise<Response> {
  let request: SignRequest;
  try {
    request = parse();
  } catch (e) {
    if (e instanceof RequestError) return jsonAnswer(failure(e.reasonCode, e.message));
    throw e;
  }
  const digest = digestOf(request);
  if (typeof digest === "string") return jsonAnswer(failure(ReasonCode.badRequest, digest));
  const key = keyForSelector(request.selector);
  if (key === "auth" && request.contentType === "data" && !isOriginBound(request.content, origin)) {
    return jsonAnswer(failure(
      ReasonCode.forbidden,
      "data for the authentication key must start with the exact Origin followed by a newline or ';' and " +
        "at least 64 characters of nonce or digest",
    ));
  }
  const format: ServeSignOptions["format"] = request.signatureType === "signature"
    ? "raw"
    : request.signatureType === "cms"
    ? "cms-detached"
    : "cms-pades";
  try {
    let pinAsked = false;
    const attempt = () =>
      ctx.cards.use(async (card) => {
        const certificates = await card.certificates([key]);
        const candidate = certificates.find((c) => c.key === key);
        if (!candidate) {
          throw new NoMatchingKeyError(
            `the card has no ${key === "sign" ? "signature" : "authentication"} certificate`,
          );
        }
        const match = matchCertificate(candidate.der, request.selector, request.signatureAlgorithm);
        if (!match.matches) {
          throw new NoMatchingKeyError(`no certificate on the card matches the selector (${match.reason})`);
        }
        const pin: PinProvider = async (pinRequest) => {
          pinAsked = true;
          return await ctx.pinDialog({
            origin,
            holder: pinRequest.holder ?? match.holder,
            key,
            pin: pinRequest.pin,
            hash: request.hash,
            digestHex: hex(digest),
            triesLeft: pinRequest.triesLeft,
          });
        };
        return await ctx.sign({ card, key, format, hash: request.hash, digest, pin });
      });
    const result = await ctx.queue.run(async () => {
      try {
        return await attempt();
      } catch (e) {
        // A card handle gone stale (card reinserted, pcscd restarted) fails before the PIN is asked: one more try
        // with the card opened afresh spends nothing. Once the person has been asked, never again.
        if (pinAsked || !isCardLevelFailure(e)) throw e;
        return await attempt();
      }
    });
    return jsonAnswer({
      version: SCS_VERSION,
      status: "ok",
      reasonCode: ReasonCode.ok,
      reasonText: "Signature generated",
      signature: base64(result.output),
      signatureType: request.signatureType,
      signatureAlgorithm: result.signatureAlgorithm,
      chain: result.chain.map(base64),
    });
  } catch (e) {
    return jsonAnswer(failureOf(e));
  }
}

/** The digest to sign: `digest` content as is (length checked), `data` hashed; cms-pades takes the PDF digest. */
function digestOf(request: SignRequest): Uint8Array | string {
  const length = DIGEST_LENGTH[request.hash];
  if (request.content.length === 0) return "'content' is empty";
  if (request.contentType === "digest") {
    if (request.content.length !== length) {
      return `a ${request.hash.toUpperCase()} digest is ${length} bytes, 'content' has ${request.content.length}`;
    }
    return request.content;
  }
  // Real PAdES clients send the PDF's byte-range digest as 'data': a content of exactly the hash length is that
  // digest (docs/scs-api.md); anything else is data to hash.
  if (request.signatureType === "cms-pades" && request.content.length === length) return request.content;
  return new Uint8Array(createHash(request.hash).update(request.content).digest());
}

function failureOf(e: unknown) {
  if (e instanceof QueueFullError) {
    return failure(ReasonCode.busy, "busy: other signatures are waiting for the card, try again shortly");
  }
  if (e instanceof PinCancelledError) return failure(ReasonCode.pinRefused, "PIN entry was cancelled");
  if (e instanceof PinWrongError) return failure(ReasonCode.pinRefused, e.message);
  if (e instanceof PinBlockedError || e instanceof PinLastTryError || e instanceof PinFormatError) {
    return failure(ReasonCode.pinRefused, `${e.message}${e.hint ? `: ${e.hint}` : ""}`);
  }
  if (e instanceof NoMatchingKeyError) return failure(ReasonCode.noMatch, e.message);
  if (e instanceof KorttiError) {
    if (e.exitCode === 5) return failure(ReasonCode.pinRefused, e.message);
    return failure(ReasonCode.cardError, `${e.message}${e.hint ? `: ${e.hint}` : ""}`);
  }
  return failure(ReasonCode.cardError, `internal error (${e instanceof Error ? e.message : String(e)})`);
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
