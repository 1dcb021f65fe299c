/**
 * The composition root of the card layer: `openCard()` connects to a card (a PC/SC reader chosen as docs/cli.md
 * says, or the in-process virtual card), wraps it in an `ApduChannel` and returns the card object of its family.
 * Also `listReaders()` with each card's family, and the look-ups `sign` and `serve` need at sign time. PC/SC and the
 * virtual card are imported only when used, so neither costs start-up time to the other.
 *
 * @example
 * ```ts
 * import { openCard } from "./open.ts";
 * const card = await openCard({ virtualCard: "v4" });
 * try {
 *   for (const c of await card.certificates()) console.log(c.key, c.path);
 * } finally {
 *   await card.close();
 * }
 * ```
 * @module
 */

import { ApduChannel, toHex } from "./apdu.ts";
import { NoMatchingKeyError } from "./errors.ts";
import type { Transport } from "./transport.ts";
import type { Card, CardCertificate, CardFamily, KeyName } from "./card/card.ts";
import type { VirtualCardOptions } from "./virtual-card/mod.ts";

export type { VirtualCardOptions };

/** A virtual card profile name, as `--virtual-card=v3|v4|org`. */
export type VirtualProfileName = "v3" | "v4" | "org";

/** Options of `openCard`. */
export interface OpenCardOptions {
  /** `--reader`: an index from `listReaders()` or a case-insensitive part of a reader name. */
  reader?: string;
  /** Use the in-process virtual card instead of PC/SC: a profile name or the full virtual card options. */
  virtualCard?: VirtualCardOptions | VirtualProfileName;
  /** Called with each traced APDU line (`--trace`); PINs are already replaced by `**`. */
  trace?: (line: string) => void;
}

/**
 * Opens the card: the in-process virtual card when `virtualCard` is given, else the card in the reader that
 * `reader` designates (default: the only reader with a card). Throws `NoReaderError` (exit 3), `NoCardError` (4),
 * `AmbiguousReaderError` (2), `NoServiceError` (3), `UnsupportedCardError` (4).
 *
 * @example
 * ```ts
 * import { openCard } from "./open.ts";
 * const card = await openCard({ reader: "0" });
 * console.log(card.family, card.model, card.atr);
 * await card.close();
 * ```
 */
export async function openCard(options: OpenCardOptions = {}): Promise<Card> {
  const transport = options.virtualCard !== undefined
    ? await openVirtual(options.virtualCard)
    : await openPcsc(options.reader);
  try {
    return await openCardOn(transport, options.trace);
  } catch (error) {
    await transport.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The card object for an already open transport (for programs with their own transport).
 *
 * @example
 * ```ts
 * import { openCardOn } from "./open.ts";
 * import type { Transport } from "./transport.ts";
 * declare const transport: Transport;
 * const card = await openCardOn(transport);
 * ```
 */
export async function openCardOn(transport: Transport, trace?: (line: string) => void): Promise<Card> {
  const { cardForChannel } = await import("./card/detect.ts");
  return await cardForChannel(new ApduChannel(transport, trace ? { trace } : {}));
}

async function openVirtual(choice: VirtualCardOptions | VirtualProfileName): Promise<Transport> {
  const { openVirtualTransport } = await import("./virtual-card/mod.ts");
  return await openVirtualTransport(typeof choice === "string" ? { profile: choice } : choice);
}

async function openPcsc(reader: string | undefined): Promise<Transport> {
  const { connectCard } = await import("./pcsc/mod.ts");
  return await connectCard(reader === undefined ? {} : { reader });
}

/** A reader as `listReaders()` gives it: PC/SC's facts and the card's family from its ATR. */
export interface ReaderDescription {
  /** Index for `--reader`. */
  index: number;
  /** Reader name. */
  name: string;
  /** Whether a card is in it. */
  cardPresent: boolean;
  /** The card's ATR, hex, or null. */
  atr: string | null;
  /** The card's family and model from its ATR, or null without a card. */
  card: { family: CardFamily; model: string } | null;
}

/**
 * The PC/SC readers with card presence, ATR and the card's family, as `kortti list-readers --json` shows them.
 * Throws `NoServiceError` when pcscd does not run; an empty list means no reader.
 *
 * @example
 * ```ts
 * import { listReaders } from "./open.ts";
 * for (const r of await listReaders()) console.log(r.index, r.name, r.card?.family ?? "no card");
 * ```
 */
export async function listReaders(): Promise<ReaderDescription[]> {
  const pcsc = await import("./pcsc/mod.ts");
  const { identifyAtr } = await import("./card/identify.ts");
  return (await pcsc.listReaders()).map((r) => ({
    index: r.index,
    name: r.name,
    cardPresent: r.cardPresent,
    atr: r.atr ? toHex(r.atr) : null,
    card: r.atr ? identifyAtr(r.atr) : null,
  }));
}

/**
 * The certificate of a key on the card (read once per card object). Throws `NoMatchingKeyError` (exit 6) when the
 * card has none.
 *
 * @example
 * ```ts
 * import { findCertificate, openCard } from "./open.ts";
 * const card = await openCard({ virtualCard: "v4" });
 * const signing = await findCertificate(card, "sign");
 * console.log(signing.keyReference, signing.der.length);
 * ```
 */
export async function findCertificate(card: Card, key: KeyName): Promise<CardCertificate> {
  const [certificate] = await card.certificates([key]);
  if (!certificate) {
    throw new NoMatchingKeyError(
      `the card has no ${key === "auth" ? "authentication" : "signature"} certificate`,
    );
  }
  return certificate;
}
