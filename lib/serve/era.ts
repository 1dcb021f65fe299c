/**
 * The erasmartcard listener's routes (port 44304, host name `erasmartcard.ehoito.fi`), documented in
 * docs/erasmartcard-api.md: the SCS operations `GET /version` and `POST /sign` (the SCS handlers themselves), and
 * kortti's extensions `GET /certificates`, `POST /authenticate` (a Web eID token) and `GET /status`. Every answer
 * is JSON, or XML (`<result>…</result>`) when the request asks with `Accept: application/xml` or `?type=xml`.
 * The guard of `server.ts` (Host, Origin, CORS, body size) stands in front, exactly as for SCS.
 *
 * @example
 * ```ts
 * import { createEraApp } from "./era.ts";
 * import { startListener, type ServeContext } from "./server.ts";
 * declare const ctx: ServeContext;
 * const listener = await startListener(ctx, { port: 44304, app: createEraApp(ctx), name: "erasmartcard" });
 * ```
 * @module
 */

import { Hono } from "hono";
import type { Card } from "../card/card.ts";
import { describeCertificate } from "../card/certificate-info.ts";
import {
  KorttiError,
  NoMatchingKeyError,
  NoReaderError,
  NoServiceError,
  PinBlockedError,
  PinCancelledError,
  PinFormatError,
  PinLastTryError,
  PinWrongError,
  UsageError,
} from "../errors.ts";
import { ERA_PORT_FILE } from "../posturl.ts";
import { createWebEidToken } from "../webeid.ts";
import { failure, type FailureBody, jsonAnswer, ReasonCode } from "./answers.ts";
import { BodyTooLargeError, readBodyLimited } from "./body.ts";
import { wantsXml, xmlResponse } from "./era-xml.ts";
import { writeDataFile } from "./files.ts";
import { QueueFullError } from "./queue.ts";
import { parseSignJson, parseSignQuery } from "./request.ts";
import { answerSign, VERSION_ANSWER } from "./scs.ts";
import { type FetchApp, type ServeContext, tooLarge } from "./server.ts";

/** The version of kortti's erasmartcard API (docs/erasmartcard-api.md). */
export const ERA_API_VERSION = "1.0";

/**
 * The erasmartcard Hono app.
 *
 * @example
 * ```ts
 * import { createEraApp } from "./era.ts";
 * import type { ServeContext } from "./server.ts";
 * declare const ctx: ServeContext;
 * const answer = await createEraApp(ctx).fetch(new Request("https://localhost:44304/status?type=xml"));
 * console.log(await answer.text());
 * ```
 */
export function createEraApp(ctx: ServeContext): EraApp {
  const app = new Hono();
  app.get("/version", () => jsonAnswer(VERSION_ANSWER));
  app.post("/sign", async (c) => {
    const text = await readText(c.req.raw, ctx);
    if (text instanceof Response) return text;
    return await answerSign(ctx, () => parseSignJson(text), c.req.header("origin"));
  });
  app.get(
    "/sign",
    (c) => answerSign(ctx, () => parseSignQuery(signQuery(c.req.url)), c.req.header("origin")),
  );
  app.get("/certificates", async () => {
    try {
      return jsonAnswer(await ctx.queue.run(() => ctx.cards.use(certificatesAnswer)));
    } catch (e) {
      return jsonAnswer(eraFailure(e));
    }
  });
  app.post("/authenticate", async (c) => {
    const text = await readText(c.req.raw, ctx);
    if (text instanceof Response) return text;
    return await answerAuthenticate(ctx, text, c.req.header("origin"));
  });
  app.get("/status", async () => jsonAnswer(await statusAnswer(ctx)));
  app.notFound((c) =>
    jsonAnswer(failure(ReasonCode.noMatch, `no route ${c.req.method} ${new URL(c.req.url).pathname}`, undefined), 404)
  );
  app.onError((e) => {
    ctx.log(`kortti serve: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return jsonAnswer(failure(ReasonCode.cardError, "internal error", undefined), 500);
  });
  return Object.assign(app, { presentAnswer });
}

/** The erasmartcard app: the routes, and the XML form of every answer of the listener (the guard's too). */
export type EraApp = Hono & Required<Pick<FetchApp, "presentAnswer">>;

/**
 * Every answer of the listener as the request asks: XML for `Accept: application/xml` or `?type=xml`, else as it
 * is; `Vary: Accept` either way.
 *
 * @example
 * ```ts
 * import { presentAnswer } from "./era.ts";
 * const request = new Request("https://localhost:44304/status?type=xml");
 * const xml = await presentAnswer(request, Response.json({ status: "ok" }));
 * ```
 */
export async function presentAnswer(request: Request, response: Response): Promise<Response> {
  const shaped = wantsXml(request) ? await xmlResponse(response) : response;
  shaped.headers.append("Vary", "Accept");
  return shaped;
}

/**
 * Records the erasmartcard port in the data directory (`era-port`), so that `kortti post-url` replaces `{PORT}`
 * with it; returns a function that removes the record again when serve stops.
 *
 * @example
 * ```ts
 * import { recordEraPort } from "./era.ts";
 * const forget = await recordEraPort("/home/me/.local/share/kortti", 44304);
 * await forget();
 * ```
 */
export async function recordEraPort(dataDir: string, port: number): Promise<() => Promise<void>> {
  const path = `${dataDir}/${ERA_PORT_FILE}`;
  await writeDataFile(path, `${port}\n`, 0o644);
  return async () => {
    try {
      if ((await Deno.readTextFile(path)).trim() === String(port)) await Deno.remove(path);
    } catch {
      // already gone, or another serve took over the record: leave it
    }
  };
}

/** The `type` parameter selects the answer format here; it is not a field of the sign request. */
function signQuery(url: string): URLSearchParams {
  const params = new URLSearchParams(new URL(url).searchParams);
  params.delete("type");
  return params;
}

async function readText(request: Request, ctx: ServeContext): Promise<string | Response> {
  try {
    return await readBodyLimited(request, ctx.bodyLimit);
  } catch (e) {
    if (e instanceof BodyTooLargeError) return tooLarge(ctx.bodyLimit);
    return jsonAnswer(failure(ReasonCode.badRequest, "the body is not UTF-8 text", undefined));
  }
}

/** `GET /certificates`: what `list-certs --json` shows, read without a PIN. */
async function certificatesAnswer(card: Card) {
  const certificates = [];
  const pins = new Map<string, Awaited<ReturnType<Card["pinStatus"]>> | undefined>();
  for (const certificate of await card.certificates()) {
    if (!pins.has(certificate.pin)) {
      pins.set(
        certificate.pin,
        await card.pinStatus(certificate.pin).catch(() => undefined),
      );
    }
    const { summary: _summary, ...info } = await describeCertificate(certificate, pins.get(certificate.pin));
    certificates.push(info);
  }
  return {
    status: "ok",
    reasonCode: ReasonCode.ok,
    reasonText: `${certificates.length} certificates`,
    reader: card.readerName,
    card: { family: card.family, model: card.model, serialNumber: (await card.serialNumber()) ?? null },
    certificates,
  };
}

/** `POST /authenticate`: a Web eID token bound to the request's origin. */
async function answerAuthenticate(ctx: ServeContext, text: string, origin: string | undefined): Promise<Response> {
  let challenge: unknown;
  try {
    const body = JSON.parse(text);
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new SyntaxError("not an object");
    const unknown = Object.keys(body).filter((name) => name !== "challenge");
    if (unknown.length > 0) {
      return jsonAnswer(failure(ReasonCode.badRequest, `unknown field '${unknown[0]}'`, undefined));
    }
    challenge = body.challenge;
  } catch {
    return jsonAnswer(failure(ReasonCode.badRequest, 'the body is not a JSON object {"challenge": "…"}', undefined));
  }
  if (origin === undefined || origin === "null") {
    // The token binds the origin: without one there is nothing to bind it to.
    return jsonAnswer(failure(ReasonCode.forbidden, "an authentication token needs the request's Origin", undefined));
  }
  try {
    const token = await ctx.queue.run(() =>
      ctx.cards.use((card) =>
        createWebEidToken({
          card,
          origin,
          challenge: challenge as string,
          pin: (pinRequest, signing) =>
            ctx.pinDialog({
              origin,
              holder: pinRequest.holder,
              key: "auth",
              pin: pinRequest.pin,
              hash: signing.hash,
              digestHex: hex(signing.digest),
              triesLeft: pinRequest.triesLeft,
              purpose: "authenticate",
            }),
        })
      )
    );
    return jsonAnswer({
      status: "ok",
      reasonCode: ReasonCode.ok,
      reasonText: "Authentication token generated",
      token,
    });
  } catch (e) {
    return jsonAnswer(eraFailure(e));
  }
}

/** `GET /status`: reader and card presence, never waiting behind a PIN dialog. */
async function statusAnswer(ctx: ServeContext) {
  const base = { status: "ok", reasonCode: ReasonCode.ok, api: ERA_API_VERSION };
  // A card busy with another request (or a queue that is full) is present: say so without waiting for it.
  const busy = {
    ...base,
    reasonText: "The card is in use",
    readerPresent: true,
    cardPresent: true,
    busy: true,
    reader: null,
    card: null,
  };
  if (ctx.queue.pending > 0) return busy;
  try {
    const facts = await ctx.queue.run(() =>
      ctx.cards.use(async (card) => {
        // One cheap command proves the card still answers (a removed card fails here and is reopened next time).
        await card.serialNumber();
        return { reader: card.readerName, card: { family: card.family, model: card.model } };
      })
    );
    return { ...base, reasonText: "Card present", readerPresent: true, cardPresent: true, busy: false, ...facts };
  } catch (e) {
    if (e instanceof QueueFullError) return busy;
    // No service or no reader: no reader to speak of; anything else (no card, removed, unsupported): no usable card.
    const readerPresent = !(e instanceof NoReaderError || e instanceof NoServiceError);
    const reasonText = e instanceof KorttiError ? e.message : "the card cannot be reached";
    return { ...base, reasonText, readerPresent, cardPresent: false, busy: false, reader: null, card: null };
  }
}

/** The failure answer of an error of the extensions, with the reason codes of SCS. */
function eraFailure(e: unknown): FailureBody {
  const answer = (code: number, text: string) => failure(code, text, undefined);
  if (e instanceof QueueFullError) return answer(ReasonCode.busy, "busy: other requests wait for the card");
  if (e instanceof PinCancelledError) return answer(ReasonCode.pinRefused, "PIN entry was cancelled");
  if (e instanceof PinWrongError) return answer(ReasonCode.pinRefused, e.message);
  if (e instanceof PinBlockedError || e instanceof PinLastTryError || e instanceof PinFormatError) {
    return answer(ReasonCode.pinRefused, `${e.message}${e.hint ? `: ${e.hint}` : ""}`);
  }
  if (e instanceof UsageError) return answer(ReasonCode.badRequest, e.message);
  if (e instanceof NoMatchingKeyError) return answer(ReasonCode.noMatch, e.message);
  if (e instanceof KorttiError) {
    if (e.exitCode === 5) return answer(ReasonCode.pinRefused, e.message);
    return answer(ReasonCode.cardError, `${e.message}${e.hint ? `: ${e.hint}` : ""}`);
  }
  return answer(ReasonCode.cardError, `internal error (${e instanceof Error ? e.message : String(e)})`);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
