/**
 * PC/SC for kortti: readers, connections (the PC/SC `Transport`), transactions, events, typed errors, and a context
 * that survives pcscd restarts. Built over the raw binding in `ffi/pcsclite.ts`.
 *
 * @example
 * ```ts
 * import { connectCard, listReaders } from "./mod.ts";
 * console.log(await listReaders());
 * const card = await connectCard(); // the only reader with a card
 * console.log(await card.transmit(new Uint8Array([0x00, 0xa4, 0x00, 0x0c])));
 * await card.close();
 * ```
 * @module
 */

export { defaultContext, PcscContext } from "./context.ts";
export { listReaders, type ReaderInfo } from "./readers.ts";
export { type ReaderStateName, stateNames } from "./reader-states.ts";
export { type ConnectOptions, connectReader, PcscConnection, type ShareModeName } from "./connection.ts";
export { chooseReader, connectCard, type ConnectCardOptions } from "./select.ts";
export { type ReaderEvent, type WatchOptions, watchReaders } from "./watch.ts";
export { pcscFailure, returnCodeName } from "./errors.ts";
export type { NativeHandle } from "./native.ts";
