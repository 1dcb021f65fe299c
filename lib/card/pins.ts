/**
 * PINs on DVV cards (docs/fineid-cards.md, "PINs"): reading tries left without spending one (GET DATA, or the empty
 * VERIFY), checking a PIN's form before anything reaches the card (a wrong length must never cost a try), encoding
 * VERIFY (citizen cards pad with `00` to 12 bytes, organisation cards send the digits as they are) and mapping its
 * status words to typed errors. Nothing here keeps a PIN: the caller zeroes the buffers right after the VERIFY.
 *
 * @example
 * ```ts
 * import { pinStatusFromGetData } from "./pins.ts";
 * const data = new Uint8Array([0xa0, 0x07, 0x83, 0x01, 0x11, 0xdf, 0x21, 0x01, 0x03]);
 * pinStatusFromGetData(data); // { triesLeft: 3, blocked: false }
 * ```
 * @module
 */

import { command, SW } from "../apdu.ts";
import {
  type KorttiError,
  PinBlockedError,
  PinFormatError,
  PinWrongError,
  UnexpectedCardAnswerError,
} from "../errors.ts";
import type { PinName } from "./card.ts";
import { findTag, parseTlv } from "./tlv.ts";

/** What a card class states about one of its PINs. */
export interface PinFacts {
  /** `PIN1`, `PIN2` or `PUK`. */
  name: PinName;
  /** The card's reference (`0x11`, `0x82`, `0x03`...). */
  reference: number;
  /** Shortest PIN the card accepts. */
  minLength: number;
  /** Longest PIN the card accepts. */
  maxLength: number;
  /** VERIFY pads the digits with `00` to this many bytes; undefined sends them unpadded. */
  paddedLength?: number;
  /** The padding byte (default `00`). */
  padByte?: number;
}

/** GET DATA `00 CB 00 FF`: the PIN status object of a reference. */
const INS_GET_DATA = 0xcb;
/** VERIFY `00 20 00 <ref>`. */
const INS_VERIFY = 0x20;
/** Tag of the tries-left byte in the GET DATA answer. */
const TAG_TRIES_LEFT = 0xdf21;

/**
 * GET DATA for a PIN's status: `00 CB 00 FF 05 A0 03 83 01 <ref> 00`.
 *
 * @example
 * ```ts
 * import { getPinStatusApdu } from "./pins.ts";
 * getPinStatusApdu(0x82); // 00 CB 00 FF 05 A0 03 83 01 82 00
 * ```
 */
export function getPinStatusApdu(reference: number): Uint8Array {
  return command(0x00, INS_GET_DATA, 0x00, 0xff, new Uint8Array([0xa0, 0x03, 0x83, 0x01, reference]), 0);
}

/**
 * The empty VERIFY `00 20 00 <ref>`: asks for the tries left without spending one.
 *
 * @example
 * ```ts
 * import { verifyStatusApdu } from "./pins.ts";
 * verifyStatusApdu(0x11); // 00 20 00 11
 * ```
 */
export function verifyStatusApdu(reference: number): Uint8Array {
  return command(0x00, INS_VERIFY, 0x00, reference);
}

/** Tries left and blocked state. */
export interface TriesState {
  /** Tries left, or null when the card did not say. */
  triesLeft: number | null;
  /** Blocked. */
  blocked: boolean;
}

/** Reads `DF21` (tries left) from a GET DATA PIN status answer; null when the answer has none. */
export function pinStatusFromGetData(data: Uint8Array): TriesState | null {
  let element;
  try {
    element = findTag(parseTlv(data), TAG_TRIES_LEFT);
  } catch {
    return null;
  }
  if (!element || element.value.length === 0) return null;
  const triesLeft = element.value[0];
  return { triesLeft, blocked: triesLeft === 0 };
}

/**
 * The state told by an empty VERIFY's status word: `63Cx` x left, `9000` verified already (count unknown), `6983`
 * blocked. Null for any other answer.
 */
export function pinStatusFromVerifyStatus(sw: number): TriesState | null {
  if ((sw & 0xfff0) === 0x63c0) return { triesLeft: sw & 0x0f, blocked: (sw & 0x0f) === 0 };
  if (sw === SW.OK) return { triesLeft: null, blocked: false };
  if (sw === SW.AUTH_METHOD_BLOCKED || sw === SW.REFERENCE_DATA_NOT_USABLE) return { triesLeft: 0, blocked: true };
  return null;
}

/**
 * Throws `PinFormatError` when the PIN is not digits of a length the card accepts, so that no try is spent on it.
 *
 * @example
 * ```ts
 * import { checkPinFormat } from "./pins.ts";
 * checkPinFormat({ name: "PIN2", reference: 0x82, minLength: 6, maxLength: 12 }, new TextEncoder().encode("1234"));
 * // throws PinFormatError: PIN2 must be 6 to 12 digits
 * ```
 */
export function checkPinFormat(facts: PinFacts, digits: Uint8Array): void {
  const range = `${facts.minLength} to ${facts.maxLength} digits`;
  if (digits.length < facts.minLength || digits.length > facts.maxLength) {
    throw new PinFormatError(facts.name, `must be ${range}`);
  }
  for (const b of digits) {
    if (b < 0x30 || b > 0x39) throw new PinFormatError(facts.name, `must be ${range} (digits only)`);
  }
}

/**
 * The VERIFY APDU for the PIN: `00 20 00 <ref> <Lc> <digits[, 00 padding]>`. The caller zeroes it after sending.
 *
 * @example
 * ```ts
 * import { verifyApdu } from "./pins.ts";
 * const pin = { name: "PIN1" as const, reference: 0x11, minLength: 4, maxLength: 12, paddedLength: 12 };
 * verifyApdu(pin, new TextEncoder().encode("1234")).length; // 17
 * ```
 */
export function verifyApdu(facts: PinFacts, digits: Uint8Array): Uint8Array {
  const length = facts.paddedLength ?? digits.length;
  const apdu = new Uint8Array(5 + length);
  apdu.set([0x00, INS_VERIFY, 0x00, facts.reference, length]);
  if (facts.padByte) apdu.fill(facts.padByte, 5);
  apdu.set(digits, 5);
  return apdu;
}

/** The typed error for a VERIFY that did not answer `9000`. */
export function verifyFailure(facts: PinFacts, sw: number): KorttiError {
  if ((sw & 0xfff0) === 0x63c0) {
    const left = sw & 0x0f;
    return left === 0 ? new PinBlockedError(facts.name) : new PinWrongError(facts.name, left);
  }
  if (sw === SW.AUTH_METHOD_BLOCKED || sw === SW.REFERENCE_DATA_NOT_USABLE) return new PinBlockedError(facts.name);
  if (sw === SW.WRONG_LENGTH || sw === SW.WRONG_DATA) {
    return new PinFormatError(facts.name, "has a length or form the card does not accept");
  }
  return new UnexpectedCardAnswerError(`VERIFY ${facts.name}`, sw);
}
