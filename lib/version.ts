/**
 * The version of kortti (kept equal to deno.json's by a test).
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * console.log(`kortti ${VERSION}`);
 * ```
 * @module
 */

/** kortti's version. */
export const VERSION = "0.1.0";
