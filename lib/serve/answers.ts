/**
 * The JSON answers of `serve` and kortti's SCS reason codes (documented in the README). Every answer is
 * `application/json`; protocol-level answers are HTTP 200 with the outcome in `status`/`reasonCode`, as peers do.
 * `reasonCodeOf` lets the access log tell the reason code of any answer made here.
 *
 * @example
 * ```ts
 * import { failure, jsonAnswer, ReasonCode } from "./answers.ts";
 * const response = jsonAnswer(failure(ReasonCode.badRequest, "content is not base64"));
 * console.log(response.headers.get("content-type"));
 * ```
 * @module
 */

/** kortti's reason codes (README "Reason codes"). */
export const ReasonCode = {
  /** Signature made. */
  ok: 200,
  /** Malformed request: JSON, types, base64, unknown fields, digest length. */
  badRequest: 400,
  /** The person cancelled, or the PIN was wrong, blocked, or on its last try. */
  pinRefused: 401,
  /** Policy: origin not allowed, Host not this service, authentication-key data not bound to the origin. */
  forbidden: 403,
  /** No certificate on the card matches the selector. */
  noMatch: 404,
  /** Request body over the limit (2 MB). */
  tooLarge: 413,
  /** Card, reader or internal error (card removed, no card, PC/SC down). */
  cardError: 500,
  /** Valid but unsupported (SHA-1, SHA-224, another signature type, JWT transactions). */
  unsupported: 501,
  /** Busy: too many requests wait for the card. */
  busy: 503,
} as const;

/** The protocol version kortti answers with. */
export const SCS_VERSION = "1.3";

/** A failure answer of the SCS protocol. */
export interface FailureBody {
  /** Protocol version (omitted for answers that are not SCS answers, e.g. a foreign Host). */
  version?: string;
  /** Always `failed`. */
  status: "failed";
  /** A reason code of `ReasonCode`. */
  reasonCode: number;
  /** What went wrong, in words. */
  reasonText: string;
}

const reasonCodes = new WeakMap<Response, number>();

/**
 * A failure body.
 *
 * @example
 * ```ts
 * import { failure } from "./answers.ts";
 * console.log(failure(404, "no certificate matches").status); // failed
 * console.log("version" in failure(403, "not an SCS answer", null)); // false
 * ```
 */
export function failure(
  reasonCode: number,
  reasonText: string,
  version: string | null = SCS_VERSION,
): FailureBody {
  return version === null
    ? { status: "failed", reasonCode, reasonText }
    : { version, status: "failed", reasonCode, reasonText };
}

/**
 * A JSON response; remembers the body's `reasonCode` for the access log.
 *
 * @example
 * ```ts
 * import { jsonAnswer } from "./answers.ts";
 * const r = jsonAnswer({ version: "1.3", status: "ok", reasonCode: 200, reasonText: "ok" });
 * ```
 */
export function jsonAnswer(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  const response = new Response(JSON.stringify(body), { status, headers });
  response.headers.set("Content-Type", "application/json; charset=utf-8");
  const code = (body as { reasonCode?: unknown } | null)?.reasonCode;
  if (typeof code === "number") reasonCodes.set(response, code);
  return response;
}

/**
 * The reason code of an answer made by `jsonAnswer`, else its HTTP status.
 *
 * @example
 * ```ts
 * import { jsonAnswer, reasonCodeOf } from "./answers.ts";
 * console.log(reasonCodeOf(jsonAnswer({ reasonCode: 401 }))); // 401
 * ```
 */
export function reasonCodeOf(response: Response): number {
  return reasonCodes.get(response) ?? response.status;
}
