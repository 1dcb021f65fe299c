/**
 * An array of `SCARD_READERSTATE` in native memory, laid out for this OS, for `SCardGetStatusChange`: reader names,
 * the state the caller believes, and what PC/SC answers (event state and ATR).
 *
 * @example
 * ```ts
 * import { ReaderStates } from "./reader-states.ts";
 * import { defaultContext } from "./context.ts";
 * const context = defaultContext();
 * const states = new ReaderStates(context.library.layout, ["Virtual PCD 00 00"]);
 * await states.wait(context, 0);
 * console.log(states.eventState(0), states.atr(0));
 * ```
 * @module
 */

import type { PcscLayout } from "../../ffi/pcsclite.ts";
import { ReaderState } from "../../ffi/pcsclite.ts";
import type { PcscContext } from "./context.ts";
import { cString, readDword, writeDword } from "./native.ts";

/** Names of the `SCARD_STATE_*` bits, as the safe layer reports them. */
export type ReaderStateName =
  | "ignore"
  | "changed"
  | "unknown"
  | "unavailable"
  | "empty"
  | "present"
  | "atrMatch"
  | "exclusive"
  | "inUse"
  | "mute"
  | "unpowered";

/** The named bits set in a `dwEventState` (the event counter in the upper 16 bits is left out). */
export function stateNames(state: number): ReaderStateName[] {
  const names: ReaderStateName[] = [];
  for (const [name, bit] of Object.entries(ReaderState)) {
    if (bit !== 0 && (state & bit) !== 0) names.push(name as ReaderStateName);
  }
  return names;
}

/** `SCARD_READERSTATE[]` for a list of reader names. */
export class ReaderStates {
  readonly #layout: PcscLayout;
  readonly #names: string[];
  // The C strings must live as long as the array that points at them.
  readonly #strings: Uint8Array[];
  readonly #buffer: Uint8Array<ArrayBuffer>;
  readonly #view: DataView;

  constructor(layout: PcscLayout, names: string[]) {
    this.#layout = layout;
    this.#names = [...names];
    this.#strings = names.map(cString);
    this.#buffer = new Uint8Array(Math.max(1, names.length) * layout.readerState.size);
    this.#view = new DataView(this.#buffer.buffer);
    this.#strings.forEach((bytes, i) => {
      const pointer = Deno.UnsafePointer.of(bytes as Uint8Array<ArrayBuffer>);
      this.#view.setBigUint64(this.#offset(i) + layout.readerState.szReader, Deno.UnsafePointer.value(pointer), true);
    });
  }

  /** The reader names, in order. */
  get names(): readonly string[] {
    return this.#names;
  }

  #offset(index: number): number {
    return index * this.#layout.readerState.size;
  }

  /** Sets what the caller believes the state of reader `index` is (`dwCurrentState`). */
  setCurrentState(index: number, state: number): void {
    writeDword(this.#layout, this.#view, this.#offset(index) + this.#layout.readerState.dwCurrentState, state);
  }

  /** The state PC/SC reported for reader `index` (`dwEventState`, event counter in the upper 16 bits). */
  eventState(index: number): number {
    return readDword(this.#layout, this.#view, this.#offset(index) + this.#layout.readerState.dwEventState);
  }

  /** The ATR PC/SC reported for reader `index` (empty without a card). */
  atr(index: number): Uint8Array {
    const base = this.#offset(index);
    const length = Math.min(
      readDword(this.#layout, this.#view, base + this.#layout.readerState.cbAtr),
      this.#layout.readerState.atrCapacity,
    );
    const start = base + this.#layout.readerState.rgbAtr;
    return this.#buffer.slice(start, start + length);
  }

  /**
   * Calls `SCardGetStatusChange` on these readers (timeout in ms; `INFINITE` to wait for a change). Returns the
   * PC/SC return code (`SCARD_E_TIMEOUT` when nothing changed in time, `SCARD_E_CANCELLED` after `cancel`).
   */
  wait(context: PcscContext, timeoutMs: number): Promise<number> {
    const { symbols } = context.library;
    return context.call((handle) => symbols.SCardGetStatusChange(handle, timeoutMs, this.#buffer, this.#names.length));
  }
}
