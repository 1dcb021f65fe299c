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
export type { ApduChannelOptions, ResponseApdu } from "./lib/apdu.ts";

// Readers and cards (lib/open.ts: each with an example): `listReaders()`, `openCard()`, `findCertificate()`.
export { findCertificate, listReaders, openCard, openCardOn } from "./lib/open.ts";
export type { OpenCardOptions, ReaderDescription, VirtualCardOptions, VirtualProfileName } from "./lib/open.ts";
export type { VirtualPinName, VirtualProfile } from "./lib/virtual-card/profiles.ts";
// PC/SC itself (lib/pcsc/mod.ts): a connection is a Transport; reader events; a context that survives pcscd restarts.
export { connectReader, PcscConnection, PcscContext, watchReaders } from "./lib/pcsc/mod.ts";
export type {
  ConnectOptions,
  NativeHandle,
  ReaderEvent,
  ReaderInfo,
  ReaderStateName,
  ShareModeName,
  WatchOptions,
} from "./lib/pcsc/mod.ts";
// The raw binding's types (ffi/pcsclite.ts), as `PcscContext.library` and `PcscContext.handle()` hand them out.
export type {
  IoRequestLayout,
  PcscLayout,
  PcscLibrary,
  PcscOs,
  PcscSymbolDefinitions,
  PcscSymbols,
  ReaderStateLayout,
} from "./ffi/pcsclite.ts";
export { identifyAtr, parseAtr } from "./lib/card/identify.ts";
export type { CardIdentity, InterfaceBytes, ParsedAtr } from "./lib/card/identify.ts";
export type {
  Card,
  CardCertificate,
  CardFamily,
  CardSignRequest,
  HashName,
  KeyName,
  PinName,
  PinProvider,
  PinRequest,
  PinState,
  SignatureScheme,
} from "./lib/card/card.ts";
export {
  type CertificateInfo,
  type CertificateSummary,
  describeCertificate,
  toPem,
} from "./lib/card/certificate-info.ts";
export { defaultHashOf } from "./lib/card/cert-facts.ts";

// Signing (lib/sign/mod.ts, lib/pin.ts, lib/fs.ts): the core of `kortti sign` and `serve`.
export { SIGN_FORMATS, signWithCard } from "./lib/sign/mod.ts";
export type { SignFormat, SignResult, SignWithCardOptions } from "./lib/sign/mod.ts";
export { buildChain, ecdsaDerToRaw, ecdsaRawToDer, hashPath, signatureAlgorithmName } from "./lib/sign/mod.ts";
export type { HashOptions, HashProgress } from "./lib/sign/hash.ts";
export { pinProviderFrom } from "./lib/pin.ts";
export type { PinPrompt, PinSourceOptions } from "./lib/pin.ts";
export { writeFileAtomic } from "./lib/fs.ts";
export type { WriteAtomicOptions } from "./lib/fs.ts";

// Verification (lib/verify/mod.ts): the core of `kortti verify` (CMS and raw, chain, OCSP, CRL).
export { defaultTrustDir, verifySignature } from "./lib/verify/mod.ts";
export type { SignerReport, VerifyFormat, VerifyOptions, VerifyReport } from "./lib/verify/mod.ts";
export type { PrecomputedDigests } from "./lib/verify/options.ts";

// Web eID authentication tokens with the card's authentication key (lib/webeid.ts).
export { algorithmsFor, checkChallenge, createWebEidToken, signedData, WEB_EID_FORMAT } from "./lib/webeid.ts";
export type {
  WebEidAlgorithm,
  WebEidAlgorithmName,
  WebEidPinProvider,
  WebEidSigning,
  WebEidToken,
  WebEidTokenRequest,
} from "./lib/webeid.ts";
// The erasmartcardpost:// protocol (lib/posturl.ts): parse a link, make its body, post it with retries.
export { assertTargetAllowed, encodePostBody, parseEraPostUrl, postWithRetries } from "./lib/posturl.ts";
export type { EraPostRequest, PostFailure, PostFormat, PostOptions, PostRequest, PostResult } from "./lib/posturl.ts";

// The SCS toolkit (lib/scs/mod.ts, a browser-safe ES module): request/response types, serialization, ScsClient.
export {
  deserializeSCSSignResponse,
  deserializeSCSVersionResponse,
  ScsClient,
  serializeSCSSignRequest,
  splitList,
  ToolkitError,
  ToolkitErrorCode,
} from "./lib/scs/mod.ts";
export type {
  ScsClientOptions,
  SCSContentType,
  SCSMethod,
  SCSSelector,
  SCSSignatureType,
  SCSSignRequest,
  SCSSignResponse,
  SCSVersionResponse,
  ToolkitResult,
} from "./lib/scs/mod.ts";
