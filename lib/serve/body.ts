/**
 * Reading a request body under a size limit: the declared Content-Length is checked before anything is read, and a
 * chunked body is counted while it streams, so an oversized body is refused without being buffered.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "./body.ts";
 * const text = await readBodyLimited(new Request("http://x/", { method: "POST", body: "{}" }), 2 * 1024 * 1024);
 * console.log(text); // {}
 * ```
 * @module
 */

/** The body limit of `serve`, as peers use: 2 MB. */
export const BODY_LIMIT = 2 * 1024 * 1024;

/**
 * How much of an oversized body is still read (and thrown away) before answering. Some HTTP/2 clients (curl 7.88)
 * drop an answer that arrives while they are still sending; reading a bounded rest lets them see the JSON error,
 * while anything larger is cut off.
 */
export const DRAIN_LIMIT = 16 * 1024 * 1024;

/**
 * Thrown when a body exceeds the limit.
 *
 * @example
 * ```ts
 * import { BodyTooLargeError } from "./body.ts";
 * console.log(new BodyTooLargeError(10).limit); // 10
 * ```
 */
export class BodyTooLargeError extends Error {
  /** The limit in bytes. */
  readonly limit: number;
  constructor(limit: number) {
    super(`request body over ${limit} bytes`);
    this.name = "BodyTooLargeError";
    this.limit = limit;
  }
}

/**
 * Whether the declared Content-Length already exceeds the limit.
 *
 * @example
 * ```ts
 * import { declaredTooLarge } from "./body.ts";
 * console.log(declaredTooLarge(new Headers({ "content-length": "3000000" }), 2_000_000)); // true
 * ```
 */
export function declaredTooLarge(headers: Headers, limit: number): boolean {
  const declared = headers.get("content-length");
  return declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit;
}

/**
 * Reads the body as UTF-8 text, throwing `BodyTooLargeError` as soon as more than `limit` bytes arrive.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "./body.ts";
 * await readBodyLimited(new Request("http://x/", { method: "POST", body: "x".repeat(20) }), 10).catch(console.log);
 * ```
 */
export async function readBodyLimited(request: Request, limit: number): Promise<string> {
  if (declaredTooLarge(request.headers, limit)) {
    await drainBody(request);
    throw new BodyTooLargeError(limit);
  }
  if (request.body === null) return "";
  if (request.headers.has("content-length")) {
    // Declared and within the limit (checked above): the runtime reads it in one piece, without stream garbage.
    return new TextDecoder("utf-8", { fatal: true }).decode(await request.arrayBuffer());
  }
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await drainReader(reader, total);
      throw new BodyTooLargeError(limit);
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/**
 * Reads and discards a body up to `DRAIN_LIMIT` bytes (nothing when it declares more), then cancels the rest.
 *
 * @example
 * ```ts
 * import { drainBody } from "./body.ts";
 * await drainBody(new Request("http://x/", { method: "POST", body: "x".repeat(10) }));
 * ```
 */
export async function drainBody(request: Request): Promise<void> {
  if (request.body === null || request.bodyUsed) return;
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) <= DRAIN_LIMIT) {
    await request.arrayBuffer().catch(() => {});
    return;
  }
  const reader = request.body.getReader();
  if (declaredTooLarge(request.headers, DRAIN_LIMIT)) {
    await reader.cancel().catch(() => {});
    return;
  }
  await drainReader(reader, 0);
}

async function drainReader(reader: ReadableStreamDefaultReader<Uint8Array>, already: number): Promise<void> {
  let total = already;
  try {
    while (total <= DRAIN_LIMIT) {
      const { value, done } = await reader.read();
      if (done) return;
      total += value.length;
    }
  } catch {
    return; // the client went away: nothing left to drain
  }
  await reader.cancel().catch(() => {});
}
