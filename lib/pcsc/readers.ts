/**
 * The readers PC/SC knows, with card presence, state and ATR.
 *
 * @example
 * ```ts
 * import { listReaders } from "./readers.ts";
 * for (const reader of await listReaders()) console.log(reader.index, reader.name, reader.cardPresent);
 * ```
 * @module
 */

import { ReaderState, ReturnCode } from "../../ffi/pcsclite.ts";
import { defaultContext, type PcscContext } from "./context.ts";
import { pcscFailure } from "./errors.ts";
import { type ReaderStateName, ReaderStates, stateNames } from "./reader-states.ts";

/** One reader as `list-readers` shows it. */
export interface ReaderInfo {
  /** Position in PC/SC's list (what `--reader N` means). */
  index: number;
  /** Reader name, e.g. `Virtual PCD 00 00`. */
  name: string;
  /** Whether a card is in the reader. */
  cardPresent: boolean;
  /** The card's ATR, or null without a card (or with a mute card). */
  atr: Uint8Array | null;
  /** The `SCARD_STATE_*` flags set, by name (`present`, `inUse`, `exclusive`...). */
  state: ReaderStateName[];
}

/**
 * Lists the readers with their state. An empty list means no reader; a stopped service throws `NoServiceError`.
 *
 * @example
 * ```ts
 * import { listReaders } from "./readers.ts";
 * const withCard = (await listReaders()).filter((r) => r.cardPresent);
 * ```
 */
export async function listReaders(context: PcscContext = defaultContext()): Promise<ReaderInfo[]> {
  for (let attempt = 0;; attempt++) {
    const names = await context.readerNames();
    if (names.length === 0) return [];
    const states = new ReaderStates(context.library.layout, names);
    names.forEach((_, i) => states.setCurrentState(i, ReaderState.unaware));
    const code = await states.wait(context, 0);
    // A reader left between listing and asking: list again.
    if (code === ReturnCode.E_UNKNOWN_READER && attempt < 3) continue;
    if (code !== ReturnCode.SUCCESS && code !== ReturnCode.E_TIMEOUT) {
      throw pcscFailure(code, "SCardGetStatusChange", undefined, false);
    }
    return names.map((name, index) => {
      const state = states.eventState(index);
      const cardPresent = (state & ReaderState.present) !== 0;
      const atr = states.atr(index);
      return {
        index,
        name,
        cardPresent,
        atr: cardPresent && atr.length > 0 ? atr : null,
        state: stateNames(state & ~ReaderState.changed),
      };
    });
  }
}
