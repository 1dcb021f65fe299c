/**
 * Reader and card events as an async iterator: `SCardGetStatusChange` on every reader plus the PnP notification
 * pseudo-reader, on a context of its own (a waiting call holds its context). Aborting the signal cancels the wait
 * with `SCardCancel`. When pcscd goes away the readers are reported removed, and added again when it is back.
 *
 * @example
 * ```ts
 * import { watchReaders } from "./watch.ts";
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 10_000);
 * for await (const event of watchReaders(stop.signal)) console.log(event.event, event.reader);
 * ```
 * @module
 */

import { INFINITE, PNP_NOTIFICATION, ReaderState, ReturnCode } from "../../ffi/pcsclite.ts";
import { PcscContext } from "./context.ts";
import { isServiceRestarting, pcscFailure, SERVICE_LOST_CODES } from "./errors.ts";
import { ReaderStates } from "./reader-states.ts";

/** A change seen in the readers. */
export type ReaderEvent =
  | { event: "inserted"; reader: string; atr: Uint8Array }
  | { event: "removed"; reader: string }
  | { event: "reader-added"; reader: string }
  | { event: "reader-removed"; reader: string };

/** Options of `watchReaders`. */
export interface WatchOptions {
  /** How often to try again while pcscd is not running, in ms (default 500). */
  retryMs?: number;
  /** Report the cards present when the watch starts as `inserted` events (default false). */
  initial?: boolean;
}

interface Known {
  state: number;
  present: boolean;
  atr: string;
}

const EVENT_COUNTER = 16;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Follows readers and cards until `signal` aborts. Throws only on unexpected PC/SC failures (a stopped service is
 * waited out).
 *
 * @example
 * ```ts
 * import { watchReaders } from "./watch.ts";
 * for await (const e of watchReaders(AbortSignal.timeout(5000))) if (e.event === "removed") break;
 * ```
 */
export async function* watchReaders(signal?: AbortSignal, options: WatchOptions = {}): AsyncGenerator<ReaderEvent> {
  const context = new PcscContext();
  const known = new Map<string, Known>();
  let first = true;
  let pnpState: number = ReaderState.unaware;
  let pending: Promise<number> | undefined;
  const onAbort = async () => {
    // The cancel can reach pcscd before the wait does: repeat until the wait has returned.
    while (pending) {
      context.cancel();
      await sleep(50);
    }
  };
  signal?.addEventListener("abort", onAbort);
  try {
    while (!signal?.aborted) {
      let names: string[];
      try {
        names = await context.readerNames();
      } catch (error) {
        if (!isServiceRestarting(error)) throw error;
        for (const [reader, entry] of known) {
          if (entry.present) yield { event: "removed", reader };
          yield { event: "reader-removed", reader };
        }
        known.clear();
        pnpState = ReaderState.unaware;
        first = false;
        await sleep(options.retryMs ?? 500, signal);
        continue;
      }
      for (const [reader, entry] of [...known]) {
        if (names.includes(reader)) continue;
        if (entry.present) yield { event: "removed", reader };
        yield { event: "reader-removed", reader };
        known.delete(reader);
      }
      for (const reader of names) {
        if (known.has(reader)) continue;
        if (!first) yield { event: "reader-added", reader };
      }
      const states = new ReaderStates(context.library.layout, [...names, PNP_NOTIFICATION]);
      names.forEach((reader, i) => states.setCurrentState(i, known.get(reader)?.state ?? ReaderState.unaware));
      states.setCurrentState(names.length, pnpState);
      const anyNew = names.some((reader) => !known.has(reader));
      if (signal?.aborted) break;
      let code: number;
      try {
        pending = states.wait(context, anyNew ? 0 : INFINITE);
        code = await pending.finally(() => pending = undefined);
      } catch (error) {
        if (!isServiceRestarting(error)) throw error;
        context.invalidate();
        await sleep(options.retryMs ?? 500, signal);
        continue;
      }
      if (code === ReturnCode.E_CANCELLED) break;
      if (SERVICE_LOST_CODES.has(code) || code === ReturnCode.E_UNKNOWN_READER) {
        context.invalidate();
        continue;
      }
      if (code !== ReturnCode.SUCCESS && code !== ReturnCode.E_TIMEOUT) {
        throw pcscFailure(code, "SCardGetStatusChange", undefined, false);
      }
      pnpState = states.eventState(names.length) & ~ReaderState.changed;
      for (const [i, reader] of names.entries()) {
        const state = states.eventState(i);
        if (state & ReaderState.unknown) continue; // gone: the next listing reports it
        const present = (state & ReaderState.present) !== 0 && (state & ReaderState.mute) === 0;
        const atr = present ? states.atr(i) : new Uint8Array();
        const atrHex = Array.from(atr, (b) => b.toString(16).padStart(2, "0")).join("");
        const before = known.get(reader);
        known.set(reader, { state: state & ~ReaderState.changed, present, atr: atrHex });
        if (!before) {
          if (present && (!first || options.initial)) yield { event: "inserted", reader, atr };
          continue;
        }
        // Removed and inserted again between two waits: the event counter moved by two or more.
        const events = ((state >>> EVENT_COUNTER) - (before.state >>> EVENT_COUNTER) + 0x10000) & 0xffff;
        const swapped = before.present && present && (before.atr !== atrHex || events >= 2);
        if (before.present && (!present || swapped)) yield { event: "removed", reader };
        if (present && (!before.present || swapped)) yield { event: "inserted", reader, atr };
      }
      first = false;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (pending) await onAbort();
    context.release();
  }
}
