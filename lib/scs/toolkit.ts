/**
 * The SCS toolkit of the Atostek ID integration guide (docs/scs-api.md): serialize a sign request for POST (JSON) or
 * GET (URL query), read sign and version answers, each function giving a `ToolkitError` beside its result. Plain ES
 * module without Deno APIs, so a web page can import it as is.
 *
 * @example
 * ```ts
 * import { deserializeSCSVersionResponse, serializeSCSSignRequest } from "./toolkit.ts";
 * const { result: body } = serializeSCSSignRequest({
 *   version: "1.1", content: btoa("x"), contentType: "data", hashAlgorithm: "SHA256", signatureType: "cms",
 * }, "POST");
 * const { result, error } = deserializeSCSVersionResponse('{"version":"1.3"}');
 * console.log(body, result, error.errorCode); // ... undefined 3200
 * ```
 * @module
 */

import type { SCSMethod, SCSSelector, SCSSignRequest, SCSSignResponse, SCSVersionResponse } from "./types.ts";

/** Error codes of the guide: 0 none, 3000 serialization, 3100 deserialization, 3200 mandatory parameter missing. */
export const ToolkitErrorCode = {
  none: 0,
  serializationFailed: 3000,
  deserializationFailed: 3100,
  mandatoryParameterMissing: 3200,
} as const;

/**
 * The toolkit's error: `errorCode` 0 means no error. It is also an `Error`, so `ScsClient` can throw it.
 *
 * @example
 * ```ts
 * import { ToolkitError } from "./toolkit.ts";
 * const ok = new ToolkitError(0, "");
 * console.log(ok.errorCode === 0);
 * ```
 */
export class ToolkitError extends Error {
  /** 0, 3000, 3100 or 3200. */
  readonly errorCode: number;
  /** What went wrong, empty when `errorCode` is 0. */
  readonly errorText: string;
  /** The message is `errorText`, or `no error` when it is empty. */
  constructor(errorCode: number, errorText: string) {
    super(errorText || "no error");
    this.name = "ToolkitError";
    this.errorCode = errorCode;
    this.errorText = errorText;
  }
}

/** A toolkit answer: the result (when there is one) beside the error (code 0 when all went well). */
export interface ToolkitResult<T> {
  /** The value, undefined when `error.errorCode` is not 0. */
  result: T | undefined;
  /** The error, `errorCode` 0 when none. */
  error: ToolkitError;
}

const NO_ERROR = new ToolkitError(ToolkitErrorCode.none, "");

const REQUEST_FIELDS = ["version", "selector", "content", "contentType", "hashAlgorithm", "signatureType"] as const;
const SELECTOR_LISTS = ["issuers", "akis", "keyusages", "keyalgorithms"] as const;

/**
 * Serializes a sign request: for `POST` the JSON body, for `GET` the URL query string (without `?`), where list
 * fields of the selector are comma-joined parameters of their own name and `strictKeypolicy` is `true`/`false`.
 *
 * @example
 * ```ts
 * import { serializeSCSSignRequest } from "./toolkit.ts";
 * const { result } = serializeSCSSignRequest({
 *   version: "1.1", selector: { keyusages: ["nonrepudiation"] }, content: "aGk=", contentType: "data",
 *   hashAlgorithm: "SHA256", signatureType: "signature",
 * }, "GET");
 * // fetch("https://127.0.0.1:53952/sign?" + result)
 * ```
 */
export function serializeSCSSignRequest(request: SCSSignRequest, method: SCSMethod): ToolkitResult<string> {
  try {
    if (request === null || typeof request !== "object") throw new Error("the request is not an object");
    for (const field of REQUEST_FIELDS) {
      if (field === "selector") continue;
      if (typeof request[field] !== "string") throw new Error(`'${field}' must be a string`);
    }
    if (request.signatureAlgorithm !== undefined && typeof request.signatureAlgorithm !== "string") {
      throw new Error("'signatureAlgorithm' must be a string");
    }
    const selector = request.selector;
    if (selector !== undefined) checkSelector(selector);
    if (method === "POST") {
      const body: Record<string, unknown> = { version: request.version };
      if (selector !== undefined) body.selector = selector;
      body.content = request.content;
      body.contentType = request.contentType;
      body.hashAlgorithm = request.hashAlgorithm;
      body.signatureType = request.signatureType;
      if (request.signatureAlgorithm !== undefined) body.signatureAlgorithm = request.signatureAlgorithm;
      return { result: JSON.stringify(body), error: NO_ERROR };
    }
    if (method !== "GET") throw new Error(`method '${String(method)}' is neither GET nor POST`);
    const params = new URLSearchParams();
    params.set("version", request.version);
    params.set("content", request.content);
    params.set("contentType", request.contentType);
    params.set("hashAlgorithm", request.hashAlgorithm);
    params.set("signatureType", request.signatureType);
    if (request.signatureAlgorithm !== undefined) params.set("signatureAlgorithm", request.signatureAlgorithm);
    if (selector !== undefined) {
      for (const list of SELECTOR_LISTS) {
        const values = selector[list];
        if (values !== undefined && values.length > 0) params.set(list, values.join(","));
      }
      if (selector.strictKeypolicy !== undefined) params.set("strictKeypolicy", String(selector.strictKeypolicy));
    }
    return { result: params.toString(), error: NO_ERROR };
  } catch (e) {
    return { result: undefined, error: new ToolkitError(ToolkitErrorCode.serializationFailed, messageOf(e)) };
  }
}

function checkSelector(selector: SCSSelector): void {
  if (selector === null || typeof selector !== "object" || Array.isArray(selector)) {
    throw new Error("'selector' must be an object");
  }
  for (const list of SELECTOR_LISTS) {
    const values = selector[list];
    if (values === undefined) continue;
    if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
      throw new Error(`'selector.${list}' must be a list of strings`);
    }
    // A comma inside an issuer DN would be split apart by the GET form's comma-joined lists; POST has no such limit.
  }
  if (selector.strictKeypolicy !== undefined && typeof selector.strictKeypolicy !== "boolean") {
    throw new Error("'selector.strictKeypolicy' must be a boolean");
  }
}

/**
 * Reads a `/sign` answer. Error 3100 when it is not a JSON object, 3200 when version, status, reasonCode or
 * reasonText is missing.
 *
 * @example
 * ```ts
 * import { deserializeSCSSignResponse } from "./toolkit.ts";
 * const { result, error } = deserializeSCSSignResponse(
 *   '{"version":"1.3","status":"failed","reasonCode":401,"reasonText":"PIN entry was cancelled"}',
 * );
 * console.log(error.errorCode, result?.reasonCode); // 0 401
 * ```
 */
export function deserializeSCSSignResponse(json: string): ToolkitResult<SCSSignResponse> {
  const parsed = parseObject(json);
  if (parsed.error) return { result: undefined, error: parsed.error };
  const d = parsed.value;
  const missing = ["version", "status", "reasonCode", "reasonText"].filter((k) => d[k] === undefined || d[k] === null);
  if (missing.length > 0) {
    return {
      result: undefined,
      error: new ToolkitError(ToolkitErrorCode.mandatoryParameterMissing, `missing: ${missing.join(", ")}`),
    };
  }
  const reasonCode = typeof d.reasonCode === "number" ? d.reasonCode : Number(d.reasonCode);
  if (!Number.isFinite(reasonCode)) {
    return { result: undefined, error: deserializationError("'reasonCode' is not a number") };
  }
  const response: SCSSignResponse = {
    version: String(d.version),
    status: String(d.status).toLowerCase() === "ok" ? "ok" : "failed",
    reasonCode,
    reasonText: String(d.reasonText),
  };
  if (typeof d.signature === "string") response.signature = d.signature;
  if (typeof d.signatureType === "string") response.signatureType = d.signatureType;
  if (typeof d.signatureAlgorithm === "string") response.signatureAlgorithm = d.signatureAlgorithm;
  if (Array.isArray(d.chain)) response.chain = d.chain.filter((c): c is string => typeof c === "string");
  return { result: response, error: NO_ERROR };
}

/**
 * Reads a `/version` answer; accepts `signatureAlgorithms` and the toolkit's `signatureAlgorithm` spelling. Error 3200
 * names the missing mandatory fields (`signatureAlgorithms` is not mandatory for 1.0/1.1 servers).
 *
 * @example
 * ```ts
 * import { deserializeSCSVersionResponse, splitList } from "./toolkit.ts";
 * const { result } = deserializeSCSVersionResponse(JSON.stringify({
 *   version: "1.3", httpMethods: "GET, POST", contentTypes: "data, digest", signatureTypes: "signature, cms",
 *   selectorAvailable: true, hashAlgorithms: "SHA256", signatureAlgorithms: "RSA, ECDSA",
 * }));
 * console.log(splitList(result!.signatureTypes)); // ["signature", "cms"]
 * ```
 */
export function deserializeSCSVersionResponse(json: string): ToolkitResult<SCSVersionResponse> {
  const parsed = parseObject(json);
  if (parsed.error) return { result: undefined, error: parsed.error };
  const d = parsed.value;
  const algorithms = d.signatureAlgorithms ?? d.signatureAlgorithm;
  const mandatory = ["version", "httpMethods", "contentTypes", "signatureTypes", "selectorAvailable", "hashAlgorithms"];
  const missing = mandatory.filter((k) => d[k] === undefined || d[k] === null);
  const old = typeof d.version === "string" && /^1\.[01]$/.test(d.version);
  if (algorithms === undefined && !old) missing.push("signatureAlgorithms");
  if (missing.length > 0) {
    return {
      result: undefined,
      error: new ToolkitError(ToolkitErrorCode.mandatoryParameterMissing, `missing: ${missing.join(", ")}`),
    };
  }
  const response: SCSVersionResponse = {
    version: String(d.version),
    httpMethods: String(d.httpMethods),
    contentTypes: String(d.contentTypes),
    signatureTypes: String(d.signatureTypes),
    selectorAvailable: d.selectorAvailable === true || String(d.selectorAvailable).toLowerCase() === "true",
    hashAlgorithms: String(d.hashAlgorithms),
    signatureAlgorithms: algorithms === undefined ? "" : String(algorithms),
  };
  if (d.applicationOIDs !== undefined) response.applicationOIDs = String(d.applicationOIDs);
  return { result: response, error: NO_ERROR };
}

/**
 * Splits one of the comma-separated list fields of `/version` (`"GET, POST"` → `["GET", "POST"]`).
 *
 * @example
 * ```ts
 * import { splitList } from "./toolkit.ts";
 * console.log(splitList("SHA256,SHA384 , SHA512")); // ["SHA256", "SHA384", "SHA512"]
 * ```
 */
export function splitList(value: string): string[] {
  return value.trim() === "" ? [] : value.trim().split(/\s*,\s*/);
}

function parseObject(json: string): { value: Record<string, unknown>; error?: undefined } | {
  value?: undefined;
  error: ToolkitError;
} {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return { error: deserializationError(`not JSON: ${messageOf(e)}`) };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: deserializationError("the answer is not a JSON object") };
  }
  return { value: value as Record<string, unknown> };
}

function deserializationError(text: string): ToolkitError {
  return new ToolkitError(ToolkitErrorCode.deserializationFailed, text);
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
