/**
 * The virtual DVV card: profiles v3, v4 and org, its PKCS#15 files, TEST keys, PIN state and fault injection, as an
 * in-process `Transport` or (through `vpcd.ts`) as a card in a real PC/SC reader.
 *
 * @example
 * ```ts
 * import { openVirtualTransport } from "./mod.ts";
 * const transport = await openVirtualTransport({ profile: "v4", blocked: ["sign"] });
 * const answer = await transport.transmit(new Uint8Array([0x00, 0x20, 0x00, 0x82])); // VERIFY status: 69 83
 * ```
 * @module
 */

export { READ_BINARY_CHUNK, VirtualCard, type VirtualCardOptions, type VirtualProfile } from "./card.ts";
export { openVirtualTransport, VirtualCardTransport } from "./transport.ts";
export { PROFILES } from "./profiles.ts";
