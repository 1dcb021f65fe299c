/**
 * The in-process virtual card as a `Transport` (lib/transport.ts): what `--virtual-card[=v3|v4|org]` gives every
 * card command instead of a PC/SC connection. The card classes cannot tell the difference.
 *
 * @example
 * ```ts
 * import { openVirtualTransport } from "./transport.ts";
 * const transport = await openVirtualTransport({ profile: "v4" });
 * console.log(transport.readerName, transport.atr.length); // "virtual" 19
 * await transport.close();
 * ```
 * @module
 */

import { CardRemovedError } from "../errors.ts";
import type { Transport } from "../transport.ts";
import { VirtualCard, type VirtualCardOptions } from "./card.ts";

/** A `Transport` to an in-process `VirtualCard`. */
export class VirtualCardTransport implements Transport {
  /** Always `"virtual"`. */
  readonly readerName = "virtual";
  /** The card underneath (tests use it to pull the card or read its APDU count). */
  readonly card: VirtualCard;
  #closed = false;

  constructor(card: VirtualCard) {
    this.card = card;
  }

  /** The card's answer to reset. */
  get atr(): Uint8Array {
    return this.card.atr();
  }

  /** Sends one APDU to the card. Throws `CardRemovedError` when the card was pulled or the transport closed. */
  async transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new CardRemovedError(this.readerName);
    return await this.card.transmit(command);
  }

  /** Nothing to lock in-process. */
  beginTransaction(): Promise<void> {
    return Promise.resolve();
  }

  /** Nothing to unlock in-process. */
  endTransaction(): Promise<void> {
    return Promise.resolve();
  }

  /** Releases the card: like a disconnect with reset, the card forgets its verification state. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.card.reset();
    }
    return Promise.resolve();
  }
}

/**
 * A new virtual card of the profile behind a `Transport`.
 *
 * @example
 * ```ts
 * import { openVirtualTransport } from "./transport.ts";
 * const transport = await openVirtualTransport({ profile: "v3", failAfter: 10 });
 * ```
 */
export async function openVirtualTransport(options: VirtualCardOptions): Promise<VirtualCardTransport> {
  return new VirtualCardTransport(await VirtualCard.create(options));
}
