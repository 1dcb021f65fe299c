/**
 * Command and response APDUs (ISO 7816-4), and `ApduChannel`: the one place every APDU of kortti passes through.
 * It fetches `61xx` remainders with GET RESPONSE, re-sends on `6Cxx` with the right Le, counts APDUs, and traces
 * each pair with its meaning, PIN bytes always replaced by `**`.
 *
 * @example
 * ```ts
 * import { ApduChannel, command } from "./apdu.ts";
 * import type { Transport } from "./transport.ts";
 * async function selectPkcs15(transport: Transport) {
 *   const channel = new ApduChannel(transport, { trace: (line) => console.error(line) });
 *   const aid = new Uint8Array([0xa0, 0, 0, 0, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35]);
 *   const response = await channel.send(command(0x00, 0xa4, 0x04, 0x0c, aid));
 *   return response.sw === 0x9000;
 * }
 * ```
 * @module
 */

import type { Transport } from "./transport.ts";

/** A response APDU: data and status word. */
export interface ResponseApdu {
  /** Response data, without SW1 SW2. */
  data: Uint8Array;
  /** Status word, e.g. 0x9000. */
  sw: number;
}

/** Status words kortti names. */
export const SW = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  SECURITY_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  WRONG_P1P2: 0x6a86,
  REFERENCE_NOT_FOUND: 0x6a88,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
} as const;

/**
 * Builds a short command APDU: CLA INS P1 P2 [Lc data] [Le]. `le` of 256 (or 0) is encoded as `00`.
 *
 * @example
 * ```ts
 * import { command } from "./apdu.ts";
 * command(0x00, 0xb0, 0x00, 0x00, undefined, 256); // READ BINARY, Le=00
 * ```
 */
export function command(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data?: Uint8Array,
  le?: number,
): Uint8Array {
  const length = 4 + (data && data.length > 0 ? 1 + data.length : 0) + (le === undefined ? 0 : 1);
  const apdu = new Uint8Array(length);
  apdu.set([cla, ins, p1, p2]);
  let at = 4;
  if (data && data.length > 0) {
    if (data.length > 255) throw new RangeError("command data over 255 bytes needs extended length");
    apdu[at++] = data.length;
    apdu.set(data, at);
    at += data.length;
  }
  if (le !== undefined) apdu[at] = le & 0xff;
  return apdu;
}

/** Splits raw response bytes into data and status word. */
export function parseResponse(raw: Uint8Array): ResponseApdu {
  if (raw.length < 2) throw new RangeError(`response of ${raw.length} bytes has no status word`);
  return { data: raw.slice(0, raw.length - 2), sw: (raw[raw.length - 2] << 8) | raw[raw.length - 1] };
}

/** Hex of bytes, upper case, no separators. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out.toUpperCase();
}

/** Bytes of a hex string; spaces and colons are ignored. Throws `RangeError` on anything else. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new RangeError(`not a hex string: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const PIN_NAMES: Record<number, string> = {
  0x11: "PIN1",
  0x82: "PIN2",
  0x83: "PUK",
  0x03: "PIN1",
  0x04: "PIN2",
  0x12: "PUK",
};

function hexSpaced(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(" ");
}

/**
 * Whether the APDU carries secret bytes (a PIN): VERIFY (20), CHANGE REFERENCE DATA (24) and RESET RETRY COUNTER
 * (2C) with data.
 */
export function carriesPin(apdu: Uint8Array): boolean {
  return apdu.length > 5 && (apdu[1] === 0x20 || apdu[1] === 0x24 || apdu[1] === 0x2c);
}

/**
 * The hex of a command APDU for traces, with the data of PIN-carrying commands replaced by `**`.
 *
 * @example
 * ```ts
 * import { redactedHex } from "./apdu.ts";
 * redactedHex(new Uint8Array([0, 0x20, 0, 0x82, 2, 0x31, 0x32])); // "00 20 00 82 02 **"
 * ```
 */
export function redactedHex(apdu: Uint8Array): string {
  if (carriesPin(apdu)) return hexSpaced(apdu.subarray(0, 5)) + " **";
  return hexSpaced(apdu);
}

/** A short meaning of a command APDU for traces (`SELECT FILE 5016/4332`, `VERIFY PIN2 **`). Never shows a PIN. */
export function describeCommand(apdu: Uint8Array): string {
  const [, ins, p1, p2] = apdu;
  const lc = apdu.length > 5 ? apdu[4] : 0;
  const data = apdu.length > 5 ? apdu.subarray(5, 5 + lc) : new Uint8Array();
  const pin = PIN_NAMES[p2] ?? `PIN ${p2.toString(16).padStart(2, "0")}`;
  switch (ins) {
    case 0xa4: {
      if (p1 === 0x04) {
        const ascii = /^[\x20-\x7e]+$/.test(new TextDecoder().decode(data.subarray(data.length > 6 ? 5 : 0)))
          ? ` (${new TextDecoder().decode(data).replace(/[^\x20-\x7e]/g, ".")})`
          : "";
        return `SELECT AID ${toHex(data)}${ascii}`;
      }
      const parts: string[] = [];
      for (let i = 0; i + 1 < data.length; i += 2) parts.push(toHex(data.subarray(i, i + 2)));
      return `SELECT FILE ${parts.join("/") || "MF"}`;
    }
    case 0xb0:
      return `READ BINARY offset ${(p1 << 8) | p2}`;
    case 0xc0:
      return "GET RESPONSE";
    case 0xca:
    case 0xcb:
      return data.length >= 5 && data[2] === 0x83 ? `GET DATA ${PIN_NAMES[data[4]] ?? "PIN"} status` : "GET DATA";
    case 0x20:
      return data.length === 0 ? `VERIFY ${pin} (status)` : `VERIFY ${pin} **`;
    case 0x24:
      return `CHANGE REFERENCE DATA ${pin} **`;
    case 0x2c:
      return `RESET RETRY COUNTER ${pin} **`;
    case 0x22:
      return `MSE:SET ${p2 === 0xb6 ? "DST" : p2 === 0xb8 ? "CT" : p2.toString(16)}`;
    case 0x2a:
      if (p1 === 0x90 && p2 === 0xa0) return "PSO:HASH";
      if (p1 === 0x9e && p2 === 0x9a) return "PSO:COMPUTE DIGITAL SIGNATURE";
      if (p1 === 0x80 && p2 === 0x86) return "PSO:DECIPHER";
      return "PSO";
    default:
      return `INS ${ins.toString(16).padStart(2, "0").toUpperCase()}`;
  }
}

/** Options of an `ApduChannel`. */
export interface ApduChannelOptions {
  /** Called with one line per APDU pair (`--trace`); PINs are already redacted. */
  trace?: (line: string) => void;
}

/**
 * Sends APDUs over a `Transport`, handling `61xx` and `6Cxx` transparently, counting and tracing them.
 *
 * @example
 * ```ts
 * import { ApduChannel, command } from "./apdu.ts";
 * import type { Transport } from "./transport.ts";
 * async function readFirstBlock(transport: Transport) {
 *   const channel = new ApduChannel(transport);
 *   const { data } = await channel.send(command(0x00, 0xb0, 0x00, 0x00, undefined, 0));
 *   console.log(channel.count, data.length);
 * }
 * ```
 */
export class ApduChannel {
  /** How many APDUs went to the card, GET RESPONSE and re-sends included. */
  count = 0;
  readonly #transport: Transport;
  readonly #trace?: (line: string) => void;

  /** A channel over `transport`; it does not take ownership (closing the transport stays the caller's). */
  constructor(transport: Transport, options: ApduChannelOptions = {}) {
    this.#transport = transport;
    this.#trace = options.trace;
  }

  /** The transport underneath. */
  get transport(): Transport {
    return this.#transport;
  }

  /** Sends one command and returns its complete response. */
  async send(apdu: Uint8Array): Promise<ResponseApdu> {
    let response = await this.#exchange(apdu);
    if ((response.sw & 0xff00) === 0x6c00) {
      const resend = apdu.slice();
      resend[resend.length - 1] = response.sw & 0xff;
      if (apdu.length === 4) throw new RangeError("6Cxx to a command without Le");
      response = await this.#exchange(resend);
    }
    const parts = [response.data];
    let total = response.data.length;
    while ((response.sw & 0xff00) === 0x6100) {
      response = await this.#exchange(command(apdu[0] & 0x03, 0xc0, 0x00, 0x00, undefined, response.sw & 0xff));
      parts.push(response.data);
      total += response.data.length;
    }
    if (parts.length === 1) return response;
    const data = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      data.set(part, at);
      at += part.length;
    }
    return { data, sw: response.sw };
  }

  async #exchange(apdu: Uint8Array): Promise<ResponseApdu> {
    this.count++;
    const started = performance.now();
    const raw = await this.#transport.transmit(apdu);
    const response = parseResponse(raw);
    if (this.#trace) {
      const ms = (performance.now() - started).toFixed(1);
      const sw = response.sw.toString(16).toUpperCase().padStart(4, "0");
      this.#trace(`> ${redactedHex(apdu)}  ${describeCommand(apdu)}`);
      this.#trace(`< ${response.data.length ? hexSpaced(response.data) + " " : ""}${sw}  (${ms} ms)`);
    }
    return response;
  }
}
