/**
 * XML answers of the erasmartcard listener: the JSON answer as a `<result>` document, for clients that ask with
 * `Accept: application/xml` or `?type=xml`. Each JSON member becomes an element of that name; an array becomes
 * repeated child elements (named after the list: `certificates` → `certificate`, otherwise `item`); text is
 * escaped; `null` is an empty element. docs/erasmartcard-api.md describes the mapping.
 *
 * @example
 * ```ts
 * import { toXml } from "./era-xml.ts";
 * toXml({ status: "ok", certificates: [{ key: "auth" }] });
 * // <?xml version="1.0" encoding="UTF-8"?>\n<result><status>ok</status><certificates><certificate><key>auth</key>…
 * ```
 * @module
 */

import { escapeXmlText, XML_FORBIDDEN } from "../xml.ts";

/** The element name of one entry of each list the API answers with; other lists use `item`. */
export const LIST_ITEM_NAMES: Readonly<Record<string, string>> = {
  certificates: "certificate",
  chain: "certificate",
  readers: "reader",
  keyUsage: "usage",
};

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

/**
 * Serializes a JSON value as an XML `<result>` document.
 *
 * @example
 * ```ts
 * import { toXml } from "./era-xml.ts";
 * toXml({ reasonText: "a < b" }); // ...<result><reasonText>a &lt; b</reasonText></result>
 * ```
 */
export function toXml(value: unknown): string {
  return `${XML_DECLARATION}${element("result", value)}`;
}

function element(name: string, value: unknown): string {
  const tag = safeName(name);
  if (value === null || value === undefined) return `<${tag}/>`;
  if (Array.isArray(value)) {
    const itemName = LIST_ITEM_NAMES[name] ?? "item";
    return `<${tag}>${value.map((item) => element(itemName, item)).join("")}</${tag}>`;
  }
  if (typeof value === "object") {
    const children = Object.entries(value as Record<string, unknown>).map(([key, child]) => element(key, child));
    return `<${tag}>${children.join("")}</${tag}>`;
  }
  return `<${tag}>${escapeText(String(value))}</${tag}>`;
}

/** Escapes element text; characters XML cannot carry become U+FFFD. */
export function escapeText(text: string): string {
  return escapeXmlText(text.replace(new RegExp(XML_FORBIDDEN.source, "g"), "\uFFFD"));
}

/** Our member names are plain; anything else is made into a valid name rather than markup. */
function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]/g, "_");
  return /^[A-Za-z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

/**
 * Whether the request asks for XML: `?type=xml` (or `type=json` for JSON), else an `Accept` header that ranks
 * `application/xml` or `text/xml` above `application/json`.
 *
 * @example
 * ```ts
 * import { wantsXml } from "./era-xml.ts";
 * wantsXml(new Request("https://localhost:44304/status", { headers: { Accept: "application/xml" } })); // true
 * ```
 */
export function wantsXml(request: Request): boolean {
  const type = new URL(request.url).searchParams.get("type")?.toLowerCase();
  if (type === "xml") return true;
  if (type === "json") return false;
  const accept = request.headers.get("accept");
  if (!accept) return false;
  return quality(accept, ["application/xml", "text/xml"]) > quality(accept, ["application/json"]);
}

/** The best q-value the Accept header gives any of the media types (exact match, then `type/*`, then `*\/*`). */
function quality(accept: string, mediaTypes: string[]): number {
  let best = 0;
  for (const mediaType of mediaTypes) {
    const [major] = mediaType.split("/");
    let exact = -1, range = -1, any = -1;
    for (const part of accept.split(",")) {
      const [rawType, ...params] = part.trim().toLowerCase().split(";");
      const q = qValue(params);
      if (rawType === mediaType) exact = Math.max(exact, q);
      else if (rawType === `${major}/*`) range = Math.max(range, q);
      else if (rawType === "*/*") any = Math.max(any, q);
    }
    // The most specific range that matches decides (RFC 9110).
    const q = exact >= 0 ? exact : range >= 0 ? range : any >= 0 ? any : 0;
    best = Math.max(best, q);
  }
  return best;
}

function qValue(params: string[]): number {
  for (const param of params) {
    const match = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param);
    if (match) return Math.min(1, Math.max(0, Number(match[1]) || 0));
  }
  return 1;
}

/**
 * The same answer as XML: status and headers kept, the JSON body rewritten, `Content-Type: application/xml`.
 * Answers that are not JSON are returned as they are.
 *
 * @example
 * ```ts
 * import { xmlResponse } from "./era-xml.ts";
 * const xml = await xmlResponse(Response.json({ status: "ok" }));
 * console.log(xml.headers.get("content-type")); // application/xml; charset=utf-8
 * ```
 */
export async function xmlResponse(response: Response): Promise<Response> {
  if (!/application\/json/i.test(response.headers.get("content-type") ?? "") || response.body === null) {
    return response;
  }
  let value: unknown;
  try {
    value = await response.clone().json();
  } catch {
    return response;
  }
  const headers = new Headers(response.headers);
  headers.set("Content-Type", "application/xml; charset=utf-8");
  headers.delete("Content-Length");
  return new Response(toXml(value), { status: response.status, statusText: response.statusText, headers });
}
