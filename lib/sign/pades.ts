/**
 * The CMS that goes into a PDF signature dictionary (`/SubFilter /ETSI.CAdES.detached`, ETSI EN 319 142 PAdES
 * baseline B): a detached SignedData over the PDF's byte ranges whose signed attributes are content-type,
 * message-digest and signing-certificate-v2, and no signing-time (the time belongs in the dictionary's `/M`).
 *
 * @example
 * ```ts
 * import { preparePadesSignature } from "./pades.ts";
 * declare const certificate: Uint8Array, byteRangeDigest: Uint8Array;
 * const prepared = preparePadesSignature({ certificate, chain: [certificate], hash: "sha256", scheme: "ecdsa",
 *   messageDigest: byteRangeDigest });
 * ```
 * @module
 */

import { type PreparedSignedData, prepareSignedData, type SignedDataParts } from "./cms.ts";

/** What a PAdES signature needs: a SignedData's parts without content or signing time. */
export type PadesParts = Omit<SignedDataParts, "content" | "signingTime">;

/**
 * Prepares a PAdES baseline B CMS: `toBeSigned` for the card, `finish` for its answer.
 *
 * @example
 * ```ts
 * import { preparePadesSignature } from "./pades.ts";
 * declare const parts: import("./pades.ts").PadesParts;
 * preparePadesSignature(parts).digestToSign;
 * ```
 */
export function preparePadesSignature(parts: PadesParts): PreparedSignedData {
  return prepareSignedData({ ...parts, content: undefined, signingTime: null });
}
