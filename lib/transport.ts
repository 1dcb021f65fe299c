/**
 * What a card talks through: a PC/SC connection (lib/pcsc/) or the in-process virtual card (lib/virtual-card/).
 * The card classes in lib/card/ see only this interface and cannot tell the two apart.
 *
 * @example
 * ```ts
 * import type { Transport } from "./transport.ts";
 * async function selectMf(t: Transport) {
 *   return await t.transmit(new Uint8Array([0x00, 0xa4, 0x00, 0x0c]));
 * }
 * ```
 * @module
 */

/** A channel to one card: sends a command APDU, returns the raw response (data followed by SW1 SW2). */
export interface Transport {
  /** Name of the reader the card is in (`"virtual"` for the in-process card). */
  readonly readerName: string;
  /** The card's answer to reset. */
  readonly atr: Uint8Array;
  /**
   * Sends one command APDU and returns the response bytes including the status word.
   * Throws `CardRemovedError` when the card is gone. Does not handle `61xx`/`6Cxx`: `ApduChannel` does.
   */
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /** Starts an exclusive transaction, if the transport has such a thing. */
  beginTransaction?(): Promise<void>;
  /** Ends the transaction started by `beginTransaction`. */
  endTransaction?(): Promise<void>;
  /** Releases the card. Safe to call twice. */
  close(): Promise<void>;
}
