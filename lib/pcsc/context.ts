/**
 * A PC/SC context that heals itself: established on first use, and established again (once per call) when pcscd
 * was restarted under it (`SCARD_E_NO_SERVICE`, `SCARD_E_SERVICE_STOPPED`, `SCARD_E_INVALID_HANDLE`), so that a
 * long-running kortti (serve, list-readers --watch) survives `systemctl restart pcscd`.
 *
 * @example
 * ```ts
 * import { PcscContext } from "./context.ts";
 * const context = new PcscContext();
 * console.log(await context.readerNames());
 * context.release();
 * ```
 * @module
 */

import { type PcscLibrary, ReturnCode, Scope } from "../../ffi/pcsclite.ts";
import { NoServiceError } from "../errors.ts";
import { pcscFailure, SERVICE_LOST_CODES } from "./errors.ts";
import { dwordBuffer, dwordOf, handleOf, multiString, type NativeHandle, pcscLibrary, returnCode } from "./native.ts";

/** A PC/SC context re-established by itself after the service restarts. */
export class PcscContext {
  readonly #library: PcscLibrary;
  #handle: NativeHandle | undefined;

  /** `library` defaults to this OS's PC/SC library, opened once per process. */
  constructor(library: PcscLibrary = pcscLibrary()) {
    this.#library = library;
  }

  /** The opened library (symbols and layout). */
  get library(): PcscLibrary {
    return this.#library;
  }

  /** Whether a context is currently established. */
  get established(): boolean {
    return this.#handle !== undefined;
  }

  /** The context handle, establishing it when needed. Throws `NoServiceError` when pcscd does not answer. */
  handle(): NativeHandle {
    if (this.#handle !== undefined) return this.#handle;
    const out = new Uint8Array(this.#library.layout.handleBytes);
    const code = returnCode(this.#library.symbols.SCardEstablishContext(Scope.system, null, null, out));
    if (code !== ReturnCode.SUCCESS) throw pcscFailure(code, "SCardEstablishContext", undefined, false);
    this.#handle = handleOf(this.#library.layout, out);
    return this.#handle;
  }

  /**
   * Runs one PC/SC call with the context handle and returns its return code. If the code says the service was
   * lost, the context is established again and the call retried once; if that fails the code is returned as is.
   */
  async call(operation: (handle: NativeHandle) => number | bigint | Promise<number | bigint>): Promise<number> {
    let code = returnCode(await operation(this.handle()));
    if (!SERVICE_LOST_CODES.has(code)) return code;
    this.invalidate();
    try {
      code = returnCode(await operation(this.handle()));
    } catch (error) {
      if (error instanceof NoServiceError) return error.pcscCode ?? code;
      throw error;
    }
    if (SERVICE_LOST_CODES.has(code)) this.invalidate();
    return code;
  }

  /**
   * The names of the readers PC/SC knows, in its order; empty when there are none. Throws `NoServiceError`.
   */
  async readerNames(): Promise<string[]> {
    const { symbols, layout } = this.#library;
    for (let attempt = 0; attempt < 5; attempt++) {
      const length = dwordBuffer(layout);
      let code = await this.call((h) => symbols.SCardListReaders(h, null, null, length));
      if (code === ReturnCode.E_NO_READERS_AVAILABLE) return [];
      if (code !== ReturnCode.SUCCESS) throw pcscFailure(code, "SCardListReaders", undefined, false);
      const names = new Uint8Array(Math.max(dwordOf(layout, length), 1));
      const filled = dwordBuffer(layout, names.length);
      code = await this.call((h) => symbols.SCardListReaders(h, null, names, filled));
      // A reader came between the two calls: ask again.
      if (code === ReturnCode.E_INSUFFICIENT_BUFFER) continue;
      if (code === ReturnCode.E_NO_READERS_AVAILABLE) return [];
      if (code !== ReturnCode.SUCCESS) throw pcscFailure(code, "SCardListReaders", undefined, false);
      return multiString(names.subarray(0, dwordOf(layout, filled)));
    }
    throw pcscFailure(ReturnCode.E_INSUFFICIENT_BUFFER, "SCardListReaders", undefined, false);
  }

  /** Aborts a pending `SCardGetStatusChange` on this context (it returns `SCARD_E_CANCELLED`). */
  cancel(): void {
    if (this.#handle === undefined) return;
    this.#library.symbols.SCardCancel(this.#handle);
  }

  /** Forgets the handle (after the service was lost); the next call establishes a new one. */
  invalidate(): void {
    if (this.#handle === undefined) return;
    const handle = this.#handle;
    this.#handle = undefined;
    try {
      this.#library.symbols.SCardReleaseContext(handle);
    } catch {
      // The old context died with the service; nothing to release.
    }
  }

  /** Releases the context. It is established again if used afterwards. */
  release(): void {
    this.invalidate();
  }
}

let shared: PcscContext | undefined;

/**
 * The process-wide context the convenience functions use.
 *
 * @example
 * ```ts
 * import { defaultContext } from "./context.ts";
 * const names = await defaultContext().readerNames();
 * ```
 */
export function defaultContext(): PcscContext {
  shared ??= new PcscContext();
  return shared;
}
