/**
 * The names of the X.509 key usage bits (RFC 5280 4.2.1.3), shared by the card layer's certificate descriptions
 * (`list-certs`) and the verifier's certificate facts.
 *
 * @example
 * ```ts
 * import { KEY_USAGE_NAMES } from "./key-usage.ts";
 * KEY_USAGE_NAMES[1]; // "nonRepudiation" (bit 1)
 * ```
 * @module
 */

/** Names of the key usage bits, in bit order: index n names bit n. */
export const KEY_USAGE_NAMES = [
  "digitalSignature",
  "nonRepudiation",
  "keyEncipherment",
  "dataEncipherment",
  "keyAgreement",
  "keyCertSign",
  "cRLSign",
  "encipherOnly",
  "decipherOnly",
] as const;
