/**
 * The card as `serve` holds it between requests: opened on first use, kept while it works, and dropped after a
 * card-level failure (removed, reset, reader gone, PC/SC restarted) so that the next request opens it afresh and
 * works once the card is back.
 *
 * @example
 * ```ts
 * import { reopeningCardAccess } from "./card-access.ts";
 * import type { Card } from "../card/card.ts";
 * declare function openCard(): Promise<Card>;
 * const cards = reopeningCardAccess(openCard);
 * console.log(await cards.use((card) => card.certificates()));
 * ```
 * @module
 */

import type { Card } from "../card/card.ts";
import { KorttiError, PcscError, UnexpectedCardAnswerError, UnsupportedCardError } from "../errors.ts";

/** Runs work with the card. */
export interface CardAccess {
  /** Runs `work` with the card, opening it when needed. */
  use<T>(work: (card: Card) => Promise<T>): Promise<T>;
  /** Releases the card, if open. */
  close(): Promise<void>;
}

/**
 * A `CardAccess` that keeps the card open and reopens it after card-level failures.
 *
 * @example
 * ```ts
 * import { reopeningCardAccess } from "./card-access.ts";
 * declare const open: () => Promise<import("../card/card.ts").Card>;
 * await reopeningCardAccess(open).close();
 * ```
 */
export function reopeningCardAccess(open: () => Promise<Card>): CardAccess {
  let card: Card | undefined;
  const drop = async () => {
    const old = card;
    card = undefined;
    await old?.close().catch(() => {});
  };
  return {
    async use(work) {
      if (card === undefined) card = await open();
      try {
        return await work(card);
      } catch (e) {
        if (isCardLevelFailure(e)) await drop();
        throw e;
      }
    },
    close: drop,
  };
}

/**
 * Whether an error means the card connection is no longer trustworthy (so it must be reopened).
 *
 * @example
 * ```ts
 * import { isCardLevelFailure } from "./card-access.ts";
 * import { CardRemovedError } from "../errors.ts";
 * console.log(isCardLevelFailure(new CardRemovedError())); // true
 * ```
 */
export function isCardLevelFailure(e: unknown): boolean {
  if (e instanceof PcscError || e instanceof UnexpectedCardAnswerError || e instanceof UnsupportedCardError) {
    return true;
  }
  if (e instanceof KorttiError) return e.exitCode === 3 || e.exitCode === 4 || e.exitCode === 70;
  return true; // an unexpected exception mid-conversation: start clean next time
}
