/**
 * `--reader R` as docs/cli.md defines it: an index from `list-readers`, or a case-insensitive part of a name;
 * without it, the only reader holding a card (several: `AmbiguousReaderError`, exit 2).
 *
 * @example
 * ```ts
 * import { chooseReader, connectCard } from "./select.ts";
 * import { listReaders } from "./readers.ts";
 * const reader = chooseReader(await listReaders(), "00 01");
 * const card = await connectCard({ reader: "0" });
 * await card.close();
 * ```
 * @module
 */

import { AmbiguousReaderError, NoCardError, NoReaderError, UsageError } from "../errors.ts";
import { connectReader, type PcscConnection, type ShareModeName } from "./connection.ts";
import type { PcscContext } from "./context.ts";
import { listReaders, type ReaderInfo } from "./readers.ts";

/**
 * Picks the reader `spec` names among `readers`. Throws `NoReaderError` (no readers, or none matches),
 * `AmbiguousReaderError` (a name part matching several, or several cards and no spec), `NoCardError`.
 */
export function chooseReader(readers: ReaderInfo[], spec?: string): ReaderInfo {
  if (readers.length === 0) throw new NoReaderError();
  if (spec === undefined || spec === "") {
    const withCard = readers.filter((r) => r.cardPresent);
    if (withCard.length === 1) return withCard[0];
    if (withCard.length === 0) throw new NoCardError();
    throw new AmbiguousReaderError(withCard.map((r) => `${r.index}: ${r.name}`));
  }
  if (/^\d+$/.test(spec)) {
    const byIndex = readers.find((r) => r.index === Number(spec));
    if (byIndex) return byIndex;
    throw new UsageError(`there is no reader ${spec}`, {
      hint: `choose 0 to ${readers.length - 1} (see 'kortti list-readers')`,
    });
  }
  const exact = readers.find((r) => r.name.toLowerCase() === spec.toLowerCase());
  if (exact) return exact;
  const matches = readers.filter((r) => r.name.toLowerCase().includes(spec.toLowerCase()));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1) throw new AmbiguousReaderError(matches.map((r) => `${r.index}: ${r.name}`));
  throw new NoReaderError(undefined, `no reader matches '${spec}'`);
}

/** Options of `connectCard`. */
export interface ConnectCardOptions {
  /** `--reader`: index or part of a name. */
  reader?: string;
  /** Share mode (default `shared`). */
  shareMode?: ShareModeName;
  /** Context (default: the process-wide one). */
  context?: PcscContext;
}

/**
 * Connects to the card `--reader` designates (see `chooseReader`). Throws `NoCardError` when that reader is empty.
 *
 * @example
 * ```ts
 * import { connectCard } from "./select.ts";
 * const connection = await connectCard({ reader: "Virtual" });
 * ```
 */
export async function connectCard(options: ConnectCardOptions = {}): Promise<PcscConnection> {
  const readers = await listReaders(options.context);
  const reader = chooseReader(readers, options.reader);
  if (!reader.cardPresent) throw new NoCardError(reader.name);
  return await connectReader(reader.name, { shareMode: options.shareMode, context: options.context });
}
