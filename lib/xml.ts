/**
 * XML text escaping shared by `post-url` (XML bodies) and the erasmartcard listener (XML answers).
 *
 * @example
 * ```ts
 * import { escapeXmlText, XML_FORBIDDEN } from "./xml.ts";
 * escapeXmlText(`<a href="x">&'`); // "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
 * XML_FORBIDDEN.test("\u0001"); // true
 * ```
 * @module
 */

/** Characters XML 1.0 cannot carry at all, even escaped (global flag off: safe for `.test`). */
// deno-lint-ignore no-control-regex
export const XML_FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
  "\r": "&#13;",
};

/** Escapes the five markup characters and CR for element text or attribute values. */
export function escapeXmlText(text: string): string {
  return text.replace(/[&<>"'\r]/g, (c) => ENTITIES[c]);
}
