/**
 * Reading an SCS sign request, liberal in spelling and exact in meaning (docs/scs-api.md): from a JSON body
 * (`POST /sign`) or URL query parameters (`GET /sign`). Anything malformed, of the wrong type, not base64, or an
 * unknown field is a `RequestError` naming the problem (reason code 400); a valid request for something kortti
 * does not do (SHA-1, another signature type) is reason code 501.
 *
 * @example
 * ```ts
 * import { parseSignJson } from "./request.ts";
 * const request = parseSignJson(JSON.stringify({
 *   version: "1.1", content: btoa("hello"), contentType: "data", hashAlgorithm: "SHA256", signatureType: "cms",
 *   selector: { keyusages: ["nonrepudiation"] },
 * }));
 * console.log(request.hash, request.content.length); // sha256 5
 * ```
 * @module
 */

import type { HashName } from "../card/card.ts";

/** A sign request, validated. */
export interface SignRequest {
  /** Version the client sent (`1.1` when absent). */
  version: string;
  /** Decoded content. */
  content: Uint8Array;
  /** `data` or `digest`. */
  contentType: "data" | "digest";
  /** Hash algorithm. */
  hash: HashName;
  /** `signature`, `cms` or `cms-pades`. */
  signatureType: "signature" | "cms" | "cms-pades";
  /** `rsa` or `ec` when the client named the key algorithm in `signatureAlgorithm`. */
  signatureAlgorithm?: "rsa" | "ec";
  /** The selector, normalized (lower-case usages and algorithms, `ec` for `ecdsa`). */
  selector: SelectorSpec;
}

/** A normalized selector. */
export interface SelectorSpec {
  /** Issuer DNs as given. */
  issuers: string[];
  /** Authority key identifiers, decoded. */
  akis: Uint8Array[];
  /** `digitalsignature`, `nonrepudiation`. */
  keyusages: string[];
  /** `rsa`, `ec`. */
  keyalgorithms: ("rsa" | "ec")[];
  /** Exact key usage matching. */
  strictKeypolicy: boolean;
}

/**
 * A request kortti cannot accept: `reasonCode` 400 (malformed) or 501 (valid but unsupported).
 *
 * @example
 * ```ts
 * import { RequestError } from "./request.ts";
 * console.log(new RequestError(400, "content: not base64").reasonCode);
 * ```
 */
export class RequestError extends Error {
  /** 400 or 501. */
  readonly reasonCode: 400 | 501;
  constructor(reasonCode: 400 | 501, message: string) {
    super(message);
    this.name = "RequestError";
    this.reasonCode = reasonCode;
  }
}

const FIELDS = new Set([
  "version",
  "selector",
  "content",
  "contentType",
  "hashAlgorithm",
  "signatureType",
  "signatureAlgorithm",
]);
const SELECTOR_FIELDS = new Set(["issuers", "akis", "keyusages", "keyalgorithms", "strictKeypolicy"]);
const HASHES: Record<string, HashName> = { SHA256: "sha256", SHA384: "sha384", SHA512: "sha512" };
const UNSUPPORTED_HASHES = new Set(["SHA1", "SHA224", "MD5"]);
const KEY_USAGES = new Set(["digitalsignature", "nonrepudiation"]);

/**
 * Parses a `POST /sign` JSON body.
 *
 * @example
 * ```ts
 * import { parseSignJson, RequestError } from "./request.ts";
 * try { parseSignJson('{"content": 1}'); } catch (e) { console.log((e as RequestError).message); }
 * ```
 */
export function parseSignJson(text: string): SignRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RequestError(400, `the body is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new RequestError(400, "the body must be a JSON object");
  }
  return validate(value as Record<string, unknown>);
}

/**
 * Parses `GET /sign` query parameters: the same fields, the selector either as a JSON `selector` parameter or as
 * `issuers`, `akis`, `keyusages`, `keyalgorithms` (comma-separated or repeated) and `strictKeypolicy`.
 *
 * @example
 * ```ts
 * import { parseSignQuery } from "./request.ts";
 * const q = new URLSearchParams({ version: "1.1", content: "aGk=", contentType: "data", hashAlgorithm: "SHA256",
 *   signatureType: "signature", keyusages: "nonrepudiation" });
 * console.log(parseSignQuery(q).selector.keyusages); // ["nonrepudiation"]
 * ```
 */
export function parseSignQuery(params: URLSearchParams): SignRequest {
  const fields: Record<string, unknown> = {};
  const selector: Record<string, unknown> = {};
  for (const key of new Set(params.keys())) {
    const values = params.getAll(key);
    if (FIELDS.has(key) && key !== "selector") {
      if (values.length > 1) throw new RequestError(400, `'${key}' is given more than once`);
      // A '+' of base64 arrives as a space when the client did not percent-encode it.
      fields[key] = key === "content" ? values[0].replace(/ /g, "+") : values[0];
    } else if (key === "selector") {
      try {
        fields.selector = JSON.parse(values[0]);
      } catch {
        throw new RequestError(400, "'selector' is not valid JSON");
      }
    } else if (SELECTOR_FIELDS.has(key)) {
      selector[key] = key === "strictKeypolicy"
        ? parseBoolean(values[0], key)
        : values.flatMap((v) => key === "issuers" && values.length > 1 ? [v] : splitComma(v, key));
    } else throw new RequestError(400, `unknown parameter '${key}'`);
  }
  if (Object.keys(selector).length > 0) {
    if (fields.selector !== undefined) throw new RequestError(400, "give the selector either as JSON or as fields");
    fields.selector = selector;
  }
  return validate(fields);
}

function splitComma(value: string, key: string): string[] {
  // An issuer DN contains commas itself: a single issuers parameter is one DN.
  if (key === "issuers") return [value];
  return value.split(/\s*,\s*/).filter((v) => v !== "");
}

function parseBoolean(value: string, key: string): boolean {
  if (/^(true|1)$/i.test(value)) return true;
  if (/^(false|0)$/i.test(value)) return false;
  throw new RequestError(400, `'${key}' must be true or false`);
}

function validate(fields: Record<string, unknown>): SignRequest {
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) throw new RequestError(400, `unknown field '${key}'`);
  }
  const version = optionalString(fields, "version") ?? "1.1";
  const contentText = requiredString(fields, "content");
  const content = decodeBase64(contentText, "content");
  const contentType = requiredString(fields, "contentType").toLowerCase();
  if (contentType !== "data" && contentType !== "digest") {
    throw new RequestError(400, `'contentType' must be 'data' or 'digest', not '${fields.contentType}'`);
  }
  const hashText = requiredString(fields, "hashAlgorithm").toUpperCase().replace(/[-_ ]/g, "");
  const hash = HASHES[hashText];
  if (!hash) {
    if (UNSUPPORTED_HASHES.has(hashText)) {
      throw new RequestError(
        501,
        `hashAlgorithm ${fields.hashAlgorithm} is not supported (use SHA256, SHA384, SHA512)`,
      );
    }
    throw new RequestError(400, `unknown hashAlgorithm '${fields.hashAlgorithm}' (SHA256, SHA384, SHA512)`);
  }
  const signatureType = requiredString(fields, "signatureType").toLowerCase();
  if (signatureType !== "signature" && signatureType !== "cms" && signatureType !== "cms-pades") {
    throw new RequestError(
      501,
      `signatureType '${fields.signatureType}' is not supported (signature, cms, cms-pades)`,
    );
  }
  const algorithmText = optionalString(fields, "signatureAlgorithm");
  const signatureAlgorithm = algorithmText === undefined || algorithmText === ""
    ? undefined
    : keyAlgorithmOf(algorithmText, "signatureAlgorithm");
  return {
    version,
    content,
    contentType,
    hash,
    signatureType,
    ...(signatureAlgorithm ? { signatureAlgorithm } : {}),
    selector: validateSelector(fields.selector),
  };
}

function validateSelector(value: unknown): SelectorSpec {
  const spec: SelectorSpec = { issuers: [], akis: [], keyusages: [], keyalgorithms: [], strictKeypolicy: false };
  if (value === undefined || value === null) return spec;
  if (typeof value !== "object" || Array.isArray(value)) throw new RequestError(400, "'selector' must be an object");
  const selector = value as Record<string, unknown>;
  for (const key of Object.keys(selector)) {
    if (!SELECTOR_FIELDS.has(key)) throw new RequestError(400, `unknown selector field '${key}'`);
  }
  spec.issuers = stringList(selector, "issuers");
  spec.akis = stringList(selector, "akis").map((a, i) => decodeBase64(a, `selector.akis[${i}]`));
  spec.keyusages = stringList(selector, "keyusages").map((u) => {
    const usage = u.toLowerCase().replace(/[-_ ]/g, "");
    if (!KEY_USAGES.has(usage)) {
      throw new RequestError(400, `unknown key usage '${u}' (digitalsignature, nonrepudiation)`);
    }
    return usage;
  });
  spec.keyalgorithms = stringList(selector, "keyalgorithms").map((a) => keyAlgorithmOf(a, "selector.keyalgorithms"));
  if (selector.strictKeypolicy !== undefined && selector.strictKeypolicy !== null) {
    if (typeof selector.strictKeypolicy !== "boolean") {
      throw new RequestError(400, "'selector.strictKeypolicy' must be a boolean");
    }
    spec.strictKeypolicy = selector.strictKeypolicy;
  }
  return spec;
}

function keyAlgorithmOf(text: string, field: string): "rsa" | "ec" {
  const t = text.toLowerCase();
  if (/^(ec|ecdsa)$/.test(t) || /withecdsa$/.test(t)) return "ec";
  if (t === "rsa" || /withrsa/.test(t) || t === "rsassa-pss" || t === "rsa-pss") return "rsa";
  throw new RequestError(400, `unknown key algorithm '${text}' in ${field} (rsa, ec, ecdsa)`);
}

function requiredString(fields: Record<string, unknown>, key: string): string {
  const value = fields[key];
  if (value === undefined || value === null) throw new RequestError(400, `'${key}' is missing`);
  if (typeof value !== "string") throw new RequestError(400, `'${key}' must be a string, not ${typeName(value)}`);
  return value;
}

function optionalString(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new RequestError(400, `'${key}' must be a string, not ${typeName(value)}`);
  return value;
}

function stringList(selector: Record<string, unknown>, key: string): string[] {
  const value = selector[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new RequestError(400, `'selector.${key}' must be a list of strings`);
  }
  return value as string[];
}

function typeName(value: unknown): string {
  return Array.isArray(value) ? "a list" : typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Decodes standard or URL-safe base64, padded or not; whitespace is ignored. Throws `RequestError` 400 otherwise.
 *
 * @example
 * ```ts
 * import { decodeBase64 } from "./request.ts";
 * console.log(decodeBase64("aGk", "content")); // Uint8Array [104, 105]
 * ```
 */
export function decodeBase64(text: string, field: string): Uint8Array {
  const compact = text.replace(/\s+/g, "").replace(/-/g, "+").replace(/_/g, "/");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.replace(/=+$/, "").length % 4 === 1) {
    throw new RequestError(400, `'${field}' is not valid base64`);
  }
  const unpadded = compact.replace(/=+$/, "");
  const padded = unpadded + "=".repeat((4 - unpadded.length % 4) % 4);
  try {
    const binary = atob(padded);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  } catch {
    throw new RequestError(400, `'${field}' is not valid base64`);
  }
}
