/**
 * PC/SC return codes turned into kortti's typed errors (lib/errors.ts), each carrying the PC/SC code.
 *
 * @example
 * ```ts
 * import { pcscFailure } from "./errors.ts";
 * const error = pcscFailure(0x80100069, "SCardTransmit", "Virtual PCD 00 00");
 * console.log(error.code); // CARD_REMOVED
 * ```
 * @module
 */

import { ReturnCode } from "../../ffi/pcsclite.ts";
import {
  CardRemovedError,
  ExitCode,
  hex32,
  NoCardError,
  NoReaderError,
  NoServiceError,
  PcscError,
  ReaderBusyError,
} from "../errors.ts";

/**
 * Codes that mean the service went away: the context must be established again. (`SCARD_F_COMM_ERROR` is what a
 * pending call gets when pcscd dies under it.)
 */
export const SERVICE_LOST_CODES: ReadonlySet<number> = new Set([
  ReturnCode.F_COMM_ERROR,
  ReturnCode.E_NO_SERVICE,
  ReturnCode.E_SERVICE_STOPPED,
  ReturnCode.E_INVALID_HANDLE,
]);

/**
 * pcsc-lite answers `SCARD_W_SECURITY_VIOLATION` (0x8010006A) to a context made in the moment pcscd restarts
 * (seen in the restart tests): a long-lived watch waits it out like a stopped service.
 */
export function isServiceRestarting(error: unknown): boolean {
  return error instanceof NoServiceError || (error instanceof PcscError && error.pcscCode === 0x8010006a);
}

/** Codes that mean the card is gone or was reset under us during an operation. */
export const CARD_GONE_CODES: ReadonlySet<number> = new Set([
  ReturnCode.W_REMOVED_CARD,
  ReturnCode.W_RESET_CARD,
  ReturnCode.E_NO_SMARTCARD,
  ReturnCode.W_UNPOWERED_CARD,
  ReturnCode.E_READER_UNAVAILABLE,
  ReturnCode.E_INVALID_HANDLE,
]);

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ReturnCode).map(([name, code]) => [code, "SCARD_" + name]),
);

/** The symbolic name of a PC/SC return code (`SCARD_E_NO_SERVICE`), or its hex. */
export function returnCodeName(code: number): string {
  return NAMES[code] ?? hex32(code);
}

/**
 * The typed error for a failed PC/SC call. `during` names the call; `reader` the reader it was about. When
 * `cardOperation` is set (a connected card was in use), lost-card codes become `CardRemovedError`; before a
 * connection they are `NoCardError`.
 */
export function pcscFailure(
  code: number,
  during: string,
  reader?: string,
  cardOperation = true,
): PcscError {
  switch (code) {
    case ReturnCode.E_NO_SERVICE:
    case ReturnCode.E_SERVICE_STOPPED:
      return new NoServiceError(code);
    case ReturnCode.E_NO_READERS_AVAILABLE:
      return new NoReaderError(code);
    case ReturnCode.E_UNKNOWN_READER:
      return new NoReaderError(code, reader ? `no reader named '${reader}'` : "the reader is gone");
    case ReturnCode.E_SHARING_VIOLATION:
      return new ReaderBusyError(reader ?? "?", code);
    case ReturnCode.W_UNRESPONSIVE_CARD:
    case ReturnCode.W_UNSUPPORTED_CARD:
      return new PcscError("CARD_UNRESPONSIVE", ExitCode.card, "the card does not answer", code, {
        hint: "check that the card is inserted the right way round, then try again",
        details: reader ? { reader } : {},
      });
  }
  if (CARD_GONE_CODES.has(code)) {
    return cardOperation ? new CardRemovedError(reader, code) : new NoCardError(reader, code);
  }
  return new PcscError(
    "PCSC_FAILURE",
    cardOperation ? ExitCode.card : ExitCode.pcsc,
    `${during} failed with ${returnCodeName(code)} (${hex32(code)})`,
    code,
    { hint: "try again; if it persists, restart pcscd and report the code", details: reader ? { reader } : {} },
  );
}
