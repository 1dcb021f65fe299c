/**
 * The listeners of `serve` and what they share. A `ServeContext` holds the policy, the card queue, the PIN dialog,
 * card access, the signing function, the data directory and the TLS identity; `startListener` serves one Hono app
 * (SCS on 53952, erasmartcard on 44304) over TLS on 127.0.0.1 and ::1 behind the same guard: Host check, Origin
 * allow-list, CORS and preflights, body limit, JSON errors, and one access-log line per request.
 *
 * @example
 * ```ts
 * import { startListener, type ServeContext } from "./server.ts";
 * import { createScsApp } from "./scs.ts";
 * declare const ctx: ServeContext;
 * const listener = await startListener(ctx, { port: 53952, app: createScsApp(ctx), name: "SCS" });
 * await listener.shutdown();
 * ```
 * @module
 */

import type { Card, HashName, KeyName, PinProvider } from "../card/card.ts";
import { NetworkError } from "../errors.ts";
import { failure, jsonAnswer, ReasonCode, reasonCodeOf } from "./answers.ts";
import { declaredTooLarge, drainBody } from "./body.ts";
import type { CardAccess } from "./card-access.ts";
import { disableNagle } from "./nodelay.ts";
import type { PinDialog } from "./pin-dialog.ts";
import { corsHeaders, type OriginPolicy } from "./policy.ts";
import type { CardQueue } from "./queue.ts";
import type { TlsIdentity } from "./tls.ts";

/** What `serve` asks of the signing core for one signature (the same core `kortti sign` uses). */
export interface ServeSignOptions {
  /** The card. */
  card: Card;
  /** Which key. */
  key: KeyName;
  /** Output format of the signing core. */
  format: "raw" | "cms-detached" | "cms-pades";
  /** Hash algorithm of `digest`. */
  hash: HashName;
  /** The digest of the content (for CMS: the message-digest attribute). */
  digest: Uint8Array;
  /** Gives the PIN right before VERIFY. */
  pin: PinProvider;
}

/** What the signing core gives back. */
export interface ServeSignResult {
  /** The signature (raw: r‖s for ECDSA) or the DER CMS SignedData. */
  output: Uint8Array;
  /** `<HASH>with<RSA|ECDSA>`, e.g. `SHA384withECDSA`. */
  signatureAlgorithm: string;
  /** The signer's certificate first, then its issuers, DER. */
  chain: Uint8Array[];
}

/** The signing function `serve` calls (an adapter over lib/sign). */
export type ServeSign = (options: ServeSignOptions) => Promise<ServeSignResult>;

/** Everything the listeners share. */
export interface ServeContext {
  /** Origins and Host policy. */
  policy: OriginPolicy;
  /** One card operation at a time, bounded waiting. */
  queue: CardQueue;
  /** Asks the person for the PIN. */
  pinDialog: PinDialog;
  /** The card. */
  cards: CardAccess;
  /** The signing core. */
  sign: ServeSign;
  /** The data directory. */
  dataDir: string;
  /** TLS certificate and key. */
  tls: TlsIdentity;
  /** Request body limit in bytes. */
  bodyLimit: number;
  /** Where access-log lines and notices go (stderr in the CLI). */
  log: (line: string) => void;
}

/** A router with a fetch handler, such as a Hono app. */
export interface FetchApp {
  /** Answers one request. */
  fetch(request: Request, ...rest: never[]): Response | Promise<Response>;
  /**
   * Optional: reshapes every answer of the listener, the guard's refusals included, before the CORS headers are
   * added (the erasmartcard listener answers XML when asked).
   */
  presentAnswer?(request: Request, response: Response): Response | Promise<Response>;
}

/** What to serve and where. */
export interface ListenerOptions {
  /** TCP port. */
  port: number;
  /** The app answering requests that pass the guard. */
  app: FetchApp;
  /** A short name for messages (`SCS`, `erasmartcard`). */
  name?: string;
  /** Addresses to bind; default 127.0.0.1 and ::1 (when the host has IPv6 loopback). */
  hostnames?: string[];
}

/** A running listener. */
export interface Listener {
  /** `https://127.0.0.1:53952` and the like, for what is bound. */
  urls: string[];
  /** The port. */
  port: number;
  /** Stops accepting, lets running requests finish, and resolves when all servers have closed. */
  shutdown(): Promise<void>;
  /** Resolves when all servers have closed. */
  finished: Promise<void>;
}

/** Likely owners of our ports, for a helpful "port taken" message. */
const LIKELY_OWNERS: Record<number, string> = {
  53952: "Atostek ID or DigiSign (another SCS service)",
  44304: "Atostek ID (its erasmartcard listener)",
};

/**
 * Starts an HTTPS listener for `app` on 127.0.0.1 (and ::1 when available) with the shared guard.
 * Throws `NetworkError` (exit 8) when the port is taken, naming the likely owner.
 *
 * @example
 * ```ts
 * import { startListener, type ServeContext } from "./server.ts";
 * import { Hono } from "hono";
 * declare const ctx: ServeContext;
 * const app = new Hono().get("/status", (c) => c.json({ ok: true }));
 * const listener = await startListener(ctx, { port: 44304, app, name: "erasmartcard" });
 * console.log(listener.urls);
 * ```
 */
export function startListener(ctx: ServeContext, options: ListenerOptions): Promise<Listener> {
  const { port, app } = options;
  const hostnames = options.hostnames ?? ["127.0.0.1", "::1"];
  const handler = guardedHandler(ctx, port, app);
  const servers: Deno.HttpServer[] = [];
  const urls: string[] = [];
  for (const hostname of hostnames) {
    try {
      const server = Deno.serve({
        hostname,
        port,
        cert: ctx.tls.certPem,
        key: ctx.tls.keyPem,
        onListen: () => {},
        onError: (error) => {
          ctx.log(`kortti serve: internal error: ${error instanceof Error ? error.message : String(error)}`);
          return jsonAnswer(failure(ReasonCode.cardError, "internal error"), 500);
        },
      }, handler);
      servers.push(server);
      urls.push(`https://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`);
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        for (const s of servers) s.shutdown();
        throw new NetworkError("PORT_TAKEN", `port ${port} on ${hostname} is taken`, {
          hint: `another program listens there${LIKELY_OWNERS[port] ? `, likely ${LIKELY_OWNERS[port]}` : ""}; ` +
            `stop it or choose another port ('kortti serve --check' tells more)`,
          details: { port, hostname },
        });
      }
      // No IPv6 loopback on this host: serving IPv4 alone is fine.
      if (hostname === "::1" && servers.length > 0) continue;
      throw new NetworkError("LISTEN_FAILED", `cannot listen on ${hostname}:${port} (${(e as Error).message})`, {
        cause: e,
      });
    }
  }
  const noDelay = disableNagle(port);
  if (noDelay < servers.length) {
    ctx.log(`kortti serve: note: could not set TCP_NODELAY on port ${port} (answers may lag)`);
  }
  const finished = Promise.all(servers.map((s) => s.finished)).then(() => {});
  return Promise.resolve({
    urls,
    port,
    finished,
    async shutdown() {
      await Promise.all(servers.map((s) => s.shutdown()));
    },
  });
}

/**
 * The guard every listener puts in front of its app: Host check, Origin policy, CORS and preflights, the declared
 * body size, JSON for every failure, and the access log. An answer the app gives at once (`/version`) is sealed and
 * returned at once: no promise on the hot path.
 *
 * @example
 * ```ts
 * import { guardedHandler, type ServeContext } from "./server.ts";
 * declare const ctx: ServeContext;
 * const handler = guardedHandler(ctx, 53952, { fetch: () => new Response("{}") });
 * ```
 */
export function guardedHandler(
  ctx: ServeContext,
  port: number,
  app: FetchApp,
): (request: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response> {
  return (request, _info) => {
    const started = performance.now();
    const method = request.method;
    const url = hostAndPath(request.url);
    const originHeader = request.headers.get("origin");
    const mayHaveBody = method !== "GET" && method !== "HEAD";
    let grantedOrigin: string | undefined;

    /** The answer of the guard, or of the app for a request that passes it. */
    const answer = (): Response | Promise<Response> => {
      // The URL's host is the Host header (HTTP/1.1) or :authority (HTTP/2).
      if (!ctx.policy.hostAllowed(url.host, port)) {
        // Not an SCS answer (no version): a page reached us under a foreign name, e.g. by DNS rebinding.
        return jsonAnswer(failure(ReasonCode.forbidden, `Host '${url.host}' is not this service`, null), 421);
      }
      const verdict = ctx.policy.judgeOrigin(originHeader);
      if (!verdict.allowed) {
        return jsonAnswer(failure(ReasonCode.forbidden, verdict.reason), method === "OPTIONS" ? 403 : 200);
      }
      grantedOrigin = verdict.origin;
      if (method === "OPTIONS") {
        return new Response(null, { status: 204, headers: { "Access-Control-Max-Age": "600" } });
      }
      if (mayHaveBody && declaredTooLarge(request.headers, ctx.bodyLimit)) return tooLarge(ctx.bodyLimit);
      return app.fetch(request);
    };

    /** The CORS headers and the access-log line, on every answer. */
    const seal = (response: Response, reasonCode = reasonCodeOf(response)): Response => {
      const preflight = method === "OPTIONS";
      const privateNetwork = preflight &&
        request.headers.get("access-control-request-private-network") === "true";
      const sealed = withHeaders(response, corsHeaderList(grantedOrigin, preflight, privateNetwork));
      ctx.log(accessLine(originHeader, method, url.pathname, reasonCode, started));
      return sealed;
    };

    const sealLater = async (answered: Promise<Response>): Promise<Response> => {
      let response = await answered.catch((e: unknown) => internalError(ctx, e));
      // A body left unread makes some HTTP/2 clients drop the answer: read (a bounded amount of) it first.
      if (mayHaveBody && request.body !== null && !request.bodyUsed) await drainBody(request);
      const reasonCode = reasonCodeOf(response);
      if (app.presentAnswer) response = await app.presentAnswer(request, response);
      return seal(response, reasonCode);
    };

    let answered: Response | Promise<Response>;
    try {
      answered = answer();
    } catch (e) {
      answered = internalError(ctx, e);
    }
    return answered instanceof Response && !mayHaveBody && !app.presentAnswer
      ? seal(answered)
      : sealLater(Promise.resolve(answered));
  };
}

function internalError(ctx: ServeContext, e: unknown): Response {
  ctx.log(`kortti serve: internal error: ${e instanceof Error ? e.message : String(e)}`);
  return jsonAnswer(failure(ReasonCode.cardError, "internal error"), 500);
}

/**
 * The answer to an oversized body: reason code 413 (HTTP 413).
 *
 * @example
 * ```ts
 * import { tooLarge } from "./server.ts";
 * console.log(tooLarge(2 * 1024 * 1024).status); // 413
 * ```
 */
export function tooLarge(limit: number): Response {
  return jsonAnswer(
    failure(ReasonCode.tooLarge, `request body over the limit of ${limit} bytes`),
    413,
  );
}

/** The host (`127.0.0.1:53952`) and path of a request URL, without the cost of a full URL parse per request. */
function hostAndPath(href: string): { host: string; pathname: string } {
  const start = href.indexOf("://") + 3;
  let end = href.indexOf("/", start);
  if (end < 0) end = href.length;
  const query = href.indexOf("?", end);
  return {
    host: href.slice(start, end).toLowerCase(),
    pathname: href.slice(end, query < 0 ? href.length : query) || "/",
  };
}

const corsCache = new Map<string, [string, string][]>();

/** The CORS header pairs for an origin, made once per allowed origin (the list is short and fixed). */
function corsHeaderList(origin: string | undefined, preflight: boolean, privateNetwork: boolean): [string, string][] {
  const key = `${preflight ? (privateNetwork ? "2" : "1") : "0"}${origin ?? ""}`;
  let list = corsCache.get(key);
  if (!list) {
    list = [...corsHeaders(origin, { preflight, privateNetwork })];
    if (corsCache.size < 1000) corsCache.set(key, list);
  }
  return list;
}

function withHeaders(response: Response, extra: [string, string][]): Response {
  try {
    for (const [name, value] of extra) {
      if (name === "vary") response.headers.append(name, value); // keep a Vary the app set (e.g. Accept)
      else response.headers.set(name, value);
    }
    if (!response.headers.has("content-type") && response.body !== null) {
      response.headers.set("Content-Type", "application/json; charset=utf-8");
    }
    return response;
  } catch {
    // Immutable headers (a Response from fetch): copy.
    const copy = new Response(response.body, response);
    for (const [name, value] of extra) copy.headers.set(name, value);
    return copy;
  }
}

let stampMs = 0;
let stamp = "";

function accessLine(origin: string | null, method: string, path: string, reasonCode: number, started: number): string {
  const ms = (performance.now() - started).toFixed(1);
  const now = Date.now();
  if (now !== stampMs) {
    stampMs = now;
    stamp = new Date(now).toISOString();
  }
  const shownOrigin = origin === null ? "-" : shownOrigins.get(origin) ?? escapeOrigin(origin);
  return `${stamp} origin=${shownOrigin} ${method} ${path.slice(0, 100)} reasonCode=${reasonCode} ${ms}ms`;
}

const shownOrigins = new Map<string, string>();

/** An origin as the log shows it: at most 200 characters, control characters escaped (remembered, bounded). */
function escapeOrigin(origin: string): string {
  const shown = JSON.stringify(origin.slice(0, 200)).slice(1, -1);
  if (shownOrigins.size < 1000) shownOrigins.set(origin, shown);
  return shown;
}
