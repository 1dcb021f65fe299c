/**
 * kortti as a library: PC/SC readers, DVV cards, signing, verification and the SCS toolkit, for other Deno programs.
 *
 * @example
 * ```ts
 * import { VERSION } from "./mod.ts";
 * console.log(VERSION);
 * ```
 * @module
 */

export { VERSION } from "./lib/version.ts";
export * from "./lib/errors.ts";
export type { Transport } from "./lib/transport.ts";
export { ApduChannel, command, fromHex, parseResponse, toHex } from "./lib/apdu.ts";
export type { ResponseApdu } from "./lib/apdu.ts";
