/**
 * A connection to the card in one reader: the PC/SC `Transport`. `transmit` sends one APDU as is (ApduChannel in
 * lib/apdu.ts handles `61xx`/`6Cxx`); a card pulled or reset under us becomes `CardRemovedError`; `transaction`
 * runs a sequence (e.g. VERIFY + MSE + PSO) with the card held exclusively.
 *
 * @example
 * ```ts
 * import { connectReader } from "./connection.ts";
 * const connection = await connectReader("Virtual PCD 00 00");
 * try {
 *   const response = await connection.transaction(() => connection.transmit(new Uint8Array([0, 0xa4, 0, 0x0c])));
 *   console.log(response);
 * } finally {
 *   await connection.close();
 * }
 * ```
 * @module
 */

import { Disposition, Protocol, ReturnCode, ShareMode } from "../../ffi/pcsclite.ts";
import type { Transport } from "../transport.ts";
import { CardRemovedError } from "../errors.ts";
import { defaultContext, type PcscContext } from "./context.ts";
import { pcscFailure, SERVICE_LOST_CODES } from "./errors.ts";
import { cString, dwordBuffer, dwordOf, handleOf, type NativeHandle, returnCode } from "./native.ts";

/** How to share the reader with other programs. */
export type ShareModeName = "shared" | "exclusive";

/** Options of `connectReader`. */
export interface ConnectOptions {
  /** `shared` (default) lets other programs use the card between transactions; `exclusive` does not. */
  shareMode?: ShareModeName;
  /** The context to connect through (default: the process-wide one). */
  context?: PcscContext;
}

// Short APDUs answer at most 256 + 2 bytes; extended ones up to 65536 + 2.
const RECEIVE_CAPACITY = 65538;

/** A connected card in a PC/SC reader. */
export class PcscConnection implements Transport {
  /** The reader's name. */
  readonly readerName: string;
  #atr: Uint8Array = new Uint8Array();
  #protocol: number;
  readonly #context: PcscContext;
  readonly #card: NativeHandle;
  readonly #receive = new Uint8Array(RECEIVE_CAPACITY);
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(context: PcscContext, card: NativeHandle, readerName: string, protocol: number) {
    this.#context = context;
    this.#card = card;
    this.readerName = readerName;
    this.#protocol = protocol;
  }

  /** The ATR the card gave at connect time. */
  get atr(): Uint8Array {
    return this.#atr;
  }

  /** The protocol in use: `1` (T=0) or `2` (T=1). */
  get protocol(): number {
    return this.#protocol;
  }

  /** Connects to the card in the reader named `readerName` (T=0 or T=1, whichever the card speaks). */
  static async open(readerName: string, options: ConnectOptions = {}): Promise<PcscConnection> {
    const context = options.context ?? defaultContext();
    const { symbols, layout } = context.library;
    const name = cString(readerName);
    const share = options.shareMode === "exclusive" ? ShareMode.exclusive : ShareMode.shared;
    const card = new Uint8Array(layout.handleBytes);
    const active = dwordBuffer(layout);
    const code = await context.call((h) => symbols.SCardConnect(h, name, share, Protocol.any, card, active));
    if (code !== ReturnCode.SUCCESS) throw pcscFailure(code, "SCardConnect", readerName, false);
    const connection = new PcscConnection(context, handleOf(layout, card), readerName, dwordOf(layout, active));
    const status = await connection.status().catch(async (error) => {
      await connection.close();
      throw error;
    });
    connection.#atr = status.atr;
    return connection;
  }

  /** Serialises calls on the card handle: PC/SC wants one at a time per handle. */
  #serial<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(operation, operation);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #fail(code: number, during: string): Error {
    if (code === ReturnCode.E_NO_SERVICE || code === ReturnCode.E_SERVICE_STOPPED) this.#context.invalidate();
    return pcscFailure(code, during, this.readerName, true);
  }

  /** Sends one command APDU; returns the response with SW1 SW2. Throws `CardRemovedError` when the card is gone. */
  transmit(command: Uint8Array): Promise<Uint8Array> {
    return this.#serial(async () => {
      const { symbols, layout } = this.#context.library;
      const send = new Uint8Array(command);
      const received = dwordBuffer(layout, this.#receive.length);
      const pci = this.protocol === Protocol.t0 ? symbols.g_rgSCardT0Pci : symbols.g_rgSCardT1Pci;
      let code: number;
      try {
        code = returnCode(
          await symbols.SCardTransmit(this.#card, pci, send, send.length, null, this.#receive, received),
        );
      } finally {
        send.fill(0); // the copy may hold a PIN (VERIFY): it must not outlive the call
      }
      if (code !== ReturnCode.SUCCESS) throw this.#fail(code, "SCardTransmit");
      const length = dwordOf(layout, received);
      // vpcd answers "success" with no bytes when the card's side went away mid-APDU: the card is gone.
      if (length < 2) throw new CardRemovedError(this.readerName);
      return this.#receive.slice(0, length);
    });
  }

  /** The reader name, state, protocol and ATR as PC/SC sees them now. */
  status(): Promise<{ readerName: string; state: number; protocol: number; atr: Uint8Array }> {
    return this.#serial(async () => {
      const { symbols, layout } = this.#context.library;
      const names = new Uint8Array(1024);
      const namesLength = dwordBuffer(layout, names.length);
      const state = dwordBuffer(layout);
      const protocol = dwordBuffer(layout);
      const atr = new Uint8Array(40);
      const atrLength = dwordBuffer(layout, atr.length);
      const code = returnCode(
        await symbols.SCardStatus(this.#card, names, namesLength, state, protocol, atr, atrLength),
      );
      if (code !== ReturnCode.SUCCESS) throw this.#fail(code, "SCardStatus");
      const nameEnd = names.indexOf(0);
      return {
        readerName: new TextDecoder().decode(names.subarray(0, nameEnd < 0 ? 0 : nameEnd)),
        state: dwordOf(layout, state),
        protocol: dwordOf(layout, protocol),
        atr: atr.slice(0, dwordOf(layout, atrLength)),
      };
    });
  }

  /** Reads a reader attribute (`SCARD_ATTR_*`), or undefined when the driver does not have it. */
  getAttribute(id: number): Promise<Uint8Array | undefined> {
    return this.#serial(async () => {
      const { symbols, layout } = this.#context.library;
      const value = new Uint8Array(1024);
      const length = dwordBuffer(layout, value.length);
      const code = returnCode(await symbols.SCardGetAttrib(this.#card, id, value, length));
      if (code === ReturnCode.SUCCESS) return value.slice(0, dwordOf(layout, length));
      if (code === ReturnCode.E_UNSUPPORTED_FEATURE || code === ReturnCode.E_INVALID_PARAMETER) return undefined;
      throw this.#fail(code, "SCardGetAttrib");
    });
  }

  /** Warm-resets the card (or re-connects after a reset by someone else), keeping the handle. */
  reconnect(reset = false): Promise<void> {
    return this.#serial(async () => {
      const { symbols, layout } = this.#context.library;
      const active = dwordBuffer(layout);
      const code = returnCode(
        await symbols.SCardReconnect(
          this.#card,
          ShareMode.shared,
          Protocol.any,
          reset ? Disposition.reset : Disposition.leave,
          active,
        ),
      );
      if (code !== ReturnCode.SUCCESS) throw this.#fail(code, "SCardReconnect");
      this.#protocol = dwordOf(layout, active);
    });
  }

  /** Starts holding the card exclusively (other programs wait). */
  beginTransaction(): Promise<void> {
    return this.#serial(async () => {
      const code = returnCode(await this.#context.library.symbols.SCardBeginTransaction(this.#card));
      if (code !== ReturnCode.SUCCESS) throw this.#fail(code, "SCardBeginTransaction");
    });
  }

  /** Ends the transaction, leaving the card as it is. */
  endTransaction(): Promise<void> {
    return this.#serial(async () => {
      const code = returnCode(await this.#context.library.symbols.SCardEndTransaction(this.#card, Disposition.leave));
      // A card removed during the transaction has already ended it.
      if (code !== ReturnCode.SUCCESS && !SERVICE_LOST_CODES.has(code) && code !== ReturnCode.W_REMOVED_CARD) {
        throw this.#fail(code, "SCardEndTransaction");
      }
    });
  }

  /**
   * Runs `operation` inside an exclusive transaction, ending it whatever happens.
   *
   * @example
   * ```ts
   * import { connectReader } from "./connection.ts";
   * const c = await connectReader("Virtual PCD 00 00");
   * await c.transaction(async () => {
   *   await c.transmit(new Uint8Array([0x00, 0x20, 0x00, 0x82]));
   * });
   * ```
   */
  async transaction<T>(operation: () => Promise<T>): Promise<T> {
    await this.beginTransaction();
    try {
      return await operation();
    } finally {
      await this.endTransaction().catch(() => undefined);
    }
  }

  /** Disconnects, leaving the card powered. Safe to call twice. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return this.#serial(async () => {
      await this.#context.library.symbols.SCardDisconnect(this.#card, Disposition.leave);
    });
  }
}

/**
 * Connects to the card in the reader with exactly this name.
 *
 * @example
 * ```ts
 * import { connectReader } from "./connection.ts";
 * const card = await connectReader("Virtual PCD 00 00", { shareMode: "shared" });
 * console.log(card.atr);
 * await card.close();
 * ```
 */
export function connectReader(name: string, options: ConnectOptions = {}): Promise<PcscConnection> {
  return PcscConnection.open(name, options);
}
