/**
 * Typed errors of kortti. Every failure a user can meet is one of these classes, carrying a stable machine code
 * (`PIN_WRONG`), the exit code of the command-line contract (docs/cli.md), a message saying what happened and a
 * hint saying what to do. `lib/` only throws them; `cli/output.ts` turns them into the stderr line or JSON object.
 *
 * @example
 * ```ts
 * import { PinWrongError } from "./errors.ts";
 * try {
 *   throw new PinWrongError("PIN2", 2);
 * } catch (e) {
 *   if (e instanceof PinWrongError) console.log(e.triesLeft); // 2
 * }
 * ```
 * @module
 */

/** Exit codes of docs/cli.md, by name. */
export const ExitCode = {
  ok: 0,
  negative: 1,
  usage: 2,
  pcsc: 3,
  card: 4,
  pin: 5,
  noMatch: 6,
  io: 7,
  network: 8,
  internal: 70,
} as const;

/** One of the exit codes of docs/cli.md. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/** Fields every kortti error carries besides its message. */
export interface KorttiErrorOptions {
  /** What the user should do next; shown after the message. */
  hint?: string;
  /** Extra machine-readable facts for the JSON error object (never secrets). */
  details?: Record<string, unknown>;
  /** The underlying error, for `KORTTI_DEBUG=1`. */
  cause?: unknown;
}

/**
 * Base class: a failure with a stable code, an exit code and a hint.
 *
 * @example
 * ```ts
 * import { KorttiError, ExitCode } from "./errors.ts";
 * const e = new KorttiError("IO_ERROR", ExitCode.io, "cannot read x", { hint: "check the path" });
 * console.log(e.exitCode); // 7
 * ```
 */
export class KorttiError extends Error {
  /** Stable machine code, e.g. `PIN_WRONG`. */
  readonly code: string;
  /** Exit code of the command-line contract. */
  readonly exitCode: ExitCodeValue;
  /** What the user should do next. */
  readonly hint: string | undefined;
  /** Machine-readable details for `--json`. */
  readonly details: Record<string, unknown>;

  /** The error's `name` is that of the class thrown; `options.cause` reaches `Error` only when given. */
  constructor(code: string, exitCode: ExitCodeValue, message: string, options: KorttiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }
}

// ---- usage (2) -------------------------------------------------------------------------------------------------

/** A wrong, missing or malformed argument. */
export class UsageError extends KorttiError {
  /** Code `USAGE`, exit 2; the hint defaults to "see --help". */
  constructor(message: string, options: KorttiErrorOptions = {}) {
    super("USAGE", ExitCode.usage, message, { hint: "see --help", ...options });
  }
}

/** More than one reader holds a card and none was chosen. */
export class AmbiguousReaderError extends KorttiError {
  /** The readers that hold a card. */
  readonly readers: string[];
  /** Code `READER_AMBIGUOUS`, exit 2; `readers` are named in the message and the details. */
  constructor(readers: string[]) {
    super("READER_AMBIGUOUS", ExitCode.usage, `several readers hold a card (${readers.join(", ")})`, {
      hint: "choose one with --reader INDEX or --reader NAME",
      details: { readers },
    });
    this.readers = readers;
  }
}

// ---- PC/SC (3) -------------------------------------------------------------------------------------------------

/** Base of PC/SC-level failures; carries the PC/SC return code when there is one. */
export class PcscError extends KorttiError {
  /** The PC/SC return code (e.g. 0x8010001D), if any. */
  readonly pcscCode: number | undefined;
  /** `pcscCode`, when given, also goes into the details as hex (`0x8010001D`), before `options.details`. */
  constructor(
    code: string,
    exitCode: ExitCodeValue,
    message: string,
    pcscCode?: number,
    options: KorttiErrorOptions = {},
  ) {
    super(code, exitCode, message, {
      ...options,
      details: { ...(pcscCode === undefined ? {} : { pcscCode: hex32(pcscCode) }), ...options.details },
    });
    this.pcscCode = pcscCode;
  }
}

/** The PC/SC service (pcscd) is not running or not reachable. */
export class NoServiceError extends PcscError {
  /** Code `PCSC_NO_SERVICE`, exit 3. */
  constructor(pcscCode?: number) {
    super("PCSC_NO_SERVICE", ExitCode.pcsc, "the PC/SC service is not running", pcscCode, {
      hint: "start it with 'sudo systemctl start pcscd' (or 'sudo pcscd'), then try again",
    });
  }
}

/** No smart-card reader is connected. */
export class NoReaderError extends PcscError {
  /** Code `PCSC_NO_READER`, exit 3; the hint points to `--virtual-card` too. */
  constructor(pcscCode?: number, message = "no smart-card reader found") {
    super("PCSC_NO_READER", ExitCode.pcsc, message, pcscCode, {
      hint: "plug in a reader (or use --virtual-card to try kortti without one)",
    });
  }
}

/** Another program holds the reader exclusively. */
export class ReaderBusyError extends PcscError {
  /** Code `PCSC_READER_BUSY`, exit 4 (the card, not PC/SC, is what cannot be reached). */
  constructor(reader: string, pcscCode?: number) {
    super("PCSC_READER_BUSY", ExitCode.card, `the reader '${reader}' is in use by another program`, pcscCode, {
      hint: "close the other program using the card (e.g. a browser or middleware) and try again",
      details: { reader },
    });
  }
}

// ---- card (4) --------------------------------------------------------------------------------------------------

/** No card in the reader(s). */
export class NoCardError extends PcscError {
  /** Code `CARD_ABSENT`, exit 4; without `reader` the message says no reader holds one. */
  constructor(reader?: string, pcscCode?: number) {
    super(
      "CARD_ABSENT",
      ExitCode.card,
      reader ? `no card in the reader '${reader}'` : "no card in any reader",
      pcscCode,
      { hint: "insert the card and try again", details: reader ? { reader } : {} },
    );
  }
}

/** The card was removed (or reset by someone else) during the operation. */
export class CardRemovedError extends PcscError {
  /** Code `CARD_REMOVED`, exit 4; `reader` is named when known. */
  constructor(reader?: string, pcscCode?: number) {
    super(
      "CARD_REMOVED",
      ExitCode.card,
      reader
        ? `the card was removed from '${reader}' during the operation`
        : "the card was removed during the operation",
      pcscCode,
      { hint: "reinsert the card and retry", details: reader ? { reader } : {} },
    );
  }
}

/** The card is not one kortti can use. */
export class UnsupportedCardError extends KorttiError {
  /** Code `CARD_UNSUPPORTED`, exit 4; the ATR goes into the message and details, for a report. */
  constructor(atrHex: string, why = "this card is not supported") {
    super("CARD_UNSUPPORTED", ExitCode.card, `${why} (ATR ${atrHex})`, {
      hint: "kortti works with DVV FINEID and organisation cards; report the ATR if this is one",
      details: { atr: atrHex },
    });
  }
}

/** The card answered something it should not have. */
export class UnexpectedCardAnswerError extends KorttiError {
  /** The status word, e.g. 0x6A82. */
  readonly statusWord: number;
  /** Code `CARD_UNEXPECTED_ANSWER`, exit 4; `what` names the step, e.g. `SELECT the PKCS#15 application`. */
  constructor(what: string, statusWord: number) {
    super("CARD_UNEXPECTED_ANSWER", ExitCode.card, `${what}: the card answered ${hex16(statusWord)}`, {
      hint: "remove and reinsert the card; if it persists, run with --trace and report it",
      details: { statusWord: hex16(statusWord) },
    });
    this.statusWord = statusWord;
  }
}

// ---- PIN (5) ---------------------------------------------------------------------------------------------------

/** The PIN was wrong; the card counted one try. */
export class PinWrongError extends KorttiError {
  /** Tries left on the card after this one. */
  readonly triesLeft: number;
  /** Code `PIN_WRONG`, exit 5; with one try left the hint warns that the next wrong PIN blocks the card. */
  constructor(pinName: string, triesLeft: number) {
    super("PIN_WRONG", ExitCode.pin, `wrong ${pinName}, ${triesLeft} ${triesLeft === 1 ? "try" : "tries"} left`, {
      hint: triesLeft <= 1
        ? "one more wrong PIN blocks the card; check the PIN before trying again"
        : "check the PIN and try again",
      details: { pin: pinName, triesLeft },
    });
    this.triesLeft = triesLeft;
  }
}

/** The PIN is blocked. */
export class PinBlockedError extends KorttiError {
  /** Code `PIN_BLOCKED`, exit 5. */
  constructor(pinName: string) {
    super("PIN_BLOCKED", ExitCode.pin, `${pinName} is blocked`, {
      hint: "unblock it with the PUK code (from the card's PIN letter) or ask the card issuer",
      details: { pin: pinName, triesLeft: 0 },
    });
  }
}

/** Only one try is left and `--allow-last-try` was not given. */
export class PinLastTryError extends KorttiError {
  /** Code `PIN_LAST_TRY`, exit 5. */
  constructor(pinName: string) {
    super("PIN_LAST_TRY", ExitCode.pin, `only one try of ${pinName} is left; kortti will not spend it unasked`, {
      hint: "if you are sure of the PIN, run again with --allow-last-try",
      details: { pin: pinName, triesLeft: 1 },
    });
  }
}

/** The person cancelled PIN entry. */
export class PinCancelledError extends KorttiError {
  constructor() {
    super("PIN_CANCELLED", ExitCode.pin, "PIN entry was cancelled", { hint: "run the command again to sign" });
  }
}

/** No PIN source and no terminal to ask on. */
export class NoPinSourceError extends KorttiError {
  constructor() {
    super("PIN_NO_SOURCE", ExitCode.pin, "no PIN source and no terminal to ask for the PIN", {
      hint: "give the PIN with --pin-fd N, --pin-file FILE or --pin-env VAR",
    });
  }
}

/** The PIN given is not of a length or form the card accepts (no try is spent). */
export class PinFormatError extends KorttiError {
  /** Code `PIN_FORMAT`, exit 5; the message is `pinName` followed by `why`, e.g. `PIN2 must be 6 to 12 digits`. */
  constructor(pinName: string, why: string) {
    super("PIN_FORMAT", ExitCode.pin, `${pinName} ${why}`, {
      hint: "check the PIN; no try was spent",
      details: { pin: pinName },
    });
  }
}

// ---- no match (6) ----------------------------------------------------------------------------------------------

/** No certificate or key on the card matches what was asked. */
export class NoMatchingKeyError extends KorttiError {
  /** Code `NO_MATCHING_KEY`, exit 6; `what` is the whole message. */
  constructor(what: string) {
    super("NO_MATCHING_KEY", ExitCode.noMatch, what, { hint: "see 'kortti list-certs' for what the card holds" });
  }
}

// ---- I/O (7) ---------------------------------------------------------------------------------------------------

/** A file could not be read or written. */
export class IoError extends KorttiError {
  /** Code `IO_ERROR`, exit 7; the hint defaults to checking the path and its permissions. */
  constructor(message: string, options: KorttiErrorOptions = {}) {
    super("IO_ERROR", ExitCode.io, message, { hint: "check the path and its permissions", ...options });
  }
}

/** The output file exists and `--force` was not given. */
export class OutputExistsError extends KorttiError {
  /** Code `OUTPUT_EXISTS`, exit 7. */
  constructor(path: string) {
    super("OUTPUT_EXISTS", ExitCode.io, `${path} already exists`, {
      hint: "choose another --out or add --force to replace it",
      details: { path },
    });
  }
}

/** Input that cannot be parsed (a malformed signature, certificate or request). */
export class InputFormatError extends KorttiError {
  /** Code `INPUT_FORMAT`, exit 7. */
  constructor(message: string, options: KorttiErrorOptions = {}) {
    super("INPUT_FORMAT", ExitCode.io, message, { hint: "check that the file is what the option expects", ...options });
  }
}

// ---- network (8) -----------------------------------------------------------------------------------------------

/** A network failure: port taken, TLS or HTTP error, retries exhausted. */
export class NetworkError extends KorttiError {
  /** Exit 8, with the caller's `code` (network failures have several, e.g. a taken port or exhausted retries). */
  constructor(code: string, message: string, options: KorttiErrorOptions = {}) {
    super(code, ExitCode.network, message, options);
  }
}

/** Formats a 32-bit code as `0x8010001D`. */
export function hex32(value: number): string {
  return "0x" + (value >>> 0).toString(16).toUpperCase().padStart(8, "0");
}

/** Formats a status word as `6A82`. */
export function hex16(value: number): string {
  return (value & 0xffff).toString(16).toUpperCase().padStart(4, "0");
}

/** A PIN source that kortti refuses: a PIN file others can read, an unset variable, an unreadable descriptor. */
export class PinSourceError extends KorttiError {
  /** Code `PIN_SOURCE`, exit 5; `hint` says how to fix that source. */
  constructor(message: string, hint: string) {
    super("PIN_SOURCE", ExitCode.pin, message, { hint });
  }
}

/** `kortti virtual-card`: no vpcd reader listens at the address given (pcscd not running, or vpcd not installed). */
export class VpcdUnavailableError extends PcscError {
  /** Code `VPCD_UNAVAILABLE`, exit 3; `address` is the host:port tried. */
  constructor(address: string) {
    super("VPCD_UNAVAILABLE", ExitCode.pcsc, `no vpcd reader listens on ${address}`, undefined, {
      hint: "start pcscd with vsmartcard-vpcd installed (its readers listen on 35963 and 35964), then try again",
      details: { address },
    });
  }
}
