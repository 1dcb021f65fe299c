/**
 * The SCS toolkit and client, as one browser-safe ES module entry: types, `serializeSCSSignRequest`,
 * `deserializeSCSSignResponse`, `deserializeSCSVersionResponse`, `ToolkitError` and `ScsClient`.
 *
 * @example
 * ```ts
 * import { ScsClient } from "./mod.ts";
 * const answer = await new ScsClient().sign({
 *   version: "1.1", content: btoa("hello"), contentType: "data", hashAlgorithm: "SHA256", signatureType: "cms",
 *   selector: { keyusages: ["nonrepudiation"] },
 * });
 * console.log(answer.reasonCode);
 * ```
 * @module
 */

export type {
  SCSContentType,
  SCSMethod,
  SCSSelector,
  SCSSignatureType,
  SCSSignRequest,
  SCSSignResponse,
  SCSVersionResponse,
} from "./types.ts";
export {
  deserializeSCSSignResponse,
  deserializeSCSVersionResponse,
  serializeSCSSignRequest,
  splitList,
  ToolkitError,
  ToolkitErrorCode,
} from "./toolkit.ts";
export type { ToolkitResult } from "./toolkit.ts";
export { ScsClient } from "./client.ts";
export type { ScsClientOptions } from "./client.ts";
