/**
 * The virtual DVV card: an APDU-level model of the v3, v4 and organisation cards of docs/fineid-cards.md. It answers
 * like a T=0 card (`61xx` when a command without Le has response data, `6Cxx` for a wrong Le), keeps its PINs and
 * try counters (optionally in a state file), forgets verification on reset and when another application is
 * selected, consumes the loaded hash at PSO:COMPUTE DIGITAL SIGNATURE, signs with its TEST keys and never exports
 * them. Fault injection: `failAfter` (the card is pulled), `delayMs` (a slow card), `blocked` and `triesLeft`.
 *
 * @example
 * ```ts
 * import { VirtualCard } from "./card.ts";
 * const card = await VirtualCard.create({ profile: "v4" });
 * const aid = [0xa0, 0, 0, 0, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35];
 * const answer = await card.transmit(new Uint8Array([0x00, 0xa4, 0x04, 0x0c, aid.length, ...aid]));
 * console.log(answer); // Uint8Array [0x90, 0x00]
 * ```
 * @module
 */

import { CardRemovedError } from "../errors.ts";
import { type CardFile, type DedicatedFile, fcpOf, FileSystem } from "./filesystem.ts";
import { CardKey, digestInfo, digestInfoHash, HASH_LENGTH, type HashAlgorithm } from "./keys.ts";
import { MAX_TRIES, PinStore } from "./pins.ts";
import { encodeAodf, encodeCdf, encodeDirRecord, encodeOdf, encodePrkdf, encodeTokenInfo } from "./pkcs15.ts";
import { EMBEDDED_KEYS } from "./profiles.generated.ts";
import {
  type KeySpec,
  PKCS15_AID,
  PROFILES,
  type ProfileSpec,
  type VirtualPinName,
  type VirtualProfile,
} from "./profiles.ts";

export type { VirtualProfile } from "./profiles.ts";

/** How to build a virtual card. */
export interface VirtualCardOptions {
  /** `v3`, `v4` or `org`. */
  profile: VirtualProfile;
  /** Keep PIN values and try counters in this file (written atomically after every change). */
  statePath?: string;
  /** Answer this many APDUs, then behave as pulled out: every later transmit throws `CardRemovedError`. */
  failAfter?: number;
  /** Wait this long before every answer (a slow card). */
  delayMs?: number;
  /** Start with these PINs blocked (`auth` = PIN1, `sign` = PIN2). */
  blocked?: ("auth" | "sign")[];
  /** Start with these tries left. */
  triesLeft?: Partial<Record<VirtualPinName, number>>;
}

/** READ BINARY answers at most this many bytes, like the recorded v3 and v4 cards (docs: 181 = 0xB5). */
export const READ_BINARY_CHUNK = 181;

const SW_OK = 0x9000;
const SW_END_OF_FILE = 0x6282;
const SW_WRONG_LENGTH = 0x6700;
const SW_SECURITY = 0x6982;
const SW_BLOCKED = 0x6983;
const SW_CONDITIONS = 0x6985;
const SW_NO_CURRENT_EF = 0x6986;
const SW_WRONG_DATA = 0x6a80;
const SW_FUNCTION_NOT_SUPPORTED = 0x6a81;
const SW_WRONG_P1P2 = 0x6a86;
const SW_REFERENCE_NOT_FOUND = 0x6a88;
const SW_WRONG_OFFSET = 0x6b00;
const SW_INS_NOT_SUPPORTED = 0x6d00;
const SW_CLA_NOT_SUPPORTED = 0x6e00;

/** Hash of an algorithm byte's high nibble (docs: 3 SHA-224, 4 SHA-256, 5 SHA-384, 6 SHA-512). */
const HASH_BY_NIBBLE: Record<number, HashAlgorithm> = { 3: "SHA-224", 4: "SHA-256", 5: "SHA-384", 6: "SHA-512" };
/** Scheme of an algorithm byte's low nibble. */
const SCHEME_BY_NIBBLE: Record<number, "pkcs1" | "ecdsa" | "pss"> = { 2: "pkcs1", 4: "ecdsa", 5: "pss" };

const FID = {
  mf: 0x3f00,
  dir: 0x2f00,
  pkcs15: 0x5015,
  odf: 0x5031,
  tokenInfo: 0x5032,
  aodf: 0x4401,
  prkdf: 0x4402,
  cdf: 0x4403,
};

/** A parsed command APDU (short length only, like the cards). */
interface Command {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Ne: 1..256, undefined when the command has no Le. */
  le?: number;
}

/** The security environment set by MSE:SET. */
interface SecurityEnvironment {
  template: "DST" | "AT";
  key: LoadedKey;
  hash: HashAlgorithm;
  scheme: "pkcs1" | "ecdsa" | "pss";
}

interface LoadedKey {
  spec: KeySpec;
  key: CardKey;
}

function parseCommand(apdu: Uint8Array): Command | undefined {
  if (apdu.length < 4) return undefined;
  const [cla, ins, p1, p2] = apdu;
  if (apdu.length === 4) return { cla, ins, p1, p2, data: new Uint8Array() };
  if (apdu.length === 5) return { cla, ins, p1, p2, data: new Uint8Array(), le: apdu[4] || 256 };
  const lc = apdu[4];
  if (lc === 0) return undefined; // extended length: not supported by these cards
  const data = apdu.slice(5, 5 + lc);
  if (apdu.length === 5 + lc) return { cla, ins, p1, p2, data };
  if (apdu.length === 6 + lc) return { cla, ins, p1, p2, data, le: apdu[5 + lc] || 256 };
  return undefined;
}

function sw(word: number): Uint8Array {
  return new Uint8Array([word >> 8, word & 0xff]);
}

function decodeBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function fidPath(path: string[]): number[] {
  return path.map((p) => parseInt(p, 16));
}

function isDigits(bytes: Uint8Array): boolean {
  return bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39);
}

/** The virtual card. Create with `VirtualCard.create`. */
export class VirtualCard {
  readonly profile: ProfileSpec;
  readonly #fs: FileSystem;
  readonly #pins: PinStore;
  readonly #keys: LoadedKey[];
  readonly #failAfter: number | undefined;
  readonly #delayMs: number;
  #apduCount = 0;
  #removed = false;
  #queue: Promise<unknown> = Promise.resolve();
  // Volatile state, lost on reset.
  #verified = new Set<VirtualPinName>();
  #application: DedicatedFile | undefined;
  #environment: SecurityEnvironment | undefined;
  #loadedHash: Uint8Array | undefined;
  #pendingResponse: Uint8Array | undefined;

  private constructor(
    profile: ProfileSpec,
    fs: FileSystem,
    pins: PinStore,
    keys: LoadedKey[],
    options: VirtualCardOptions,
  ) {
    this.profile = profile;
    this.#fs = fs;
    this.#pins = pins;
    this.#keys = keys;
    this.#failAfter = options.failAfter;
    this.#delayMs = options.delayMs ?? 0;
  }

  /**
   * A card of the profile, freshly powered on. Loads its TEST keys, builds its PKCS#15 files, reads the state file
   * when given, then applies `blocked` and `triesLeft`.
   */
  static async create(options: VirtualCardOptions): Promise<VirtualCard> {
    const profile = PROFILES[options.profile];
    if (!profile) throw new RangeError(`no virtual card profile '${options.profile}'`);
    const keys: LoadedKey[] = [];
    for (const spec of profile.keys) {
      const embedded = EMBEDDED_KEYS[spec.embedded];
      keys.push({ spec, key: await CardKey.fromPkcs8(decodeBase64(embedded.privateKeyPkcs8), spec.algorithm) });
    }
    const fs = new FileSystem(buildFiles(profile));
    const pins = await PinStore.open(profile, options.statePath);
    for (const key of options.blocked ?? []) await pins.setTries(key === "auth" ? "PIN1" : "PIN2", 0);
    for (const [name, tries] of Object.entries(options.triesLeft ?? {}) as [VirtualPinName, number][]) {
      await pins.setTries(name, tries);
    }
    return new VirtualCard(profile, fs, pins, keys, options);
  }

  /** The answer to reset. */
  atr(): Uint8Array {
    return this.profile.atr.slice();
  }

  /** APDUs answered so far. */
  get apduCount(): number {
    return this.#apduCount;
  }

  /** Whether the card has been pulled (`failAfter` reached or `remove()` called). */
  get removed(): boolean {
    return this.#removed;
  }

  /** Pulls the card out: every later transmit throws `CardRemovedError`. */
  remove(): void {
    this.#removed = true;
  }

  /** Warm reset: the card forgets verification, the security environment, the loaded hash and the selection. */
  reset(): void {
    this.#verified.clear();
    this.#application = undefined;
    this.#environment = undefined;
    this.#loadedHash = undefined;
    this.#pendingResponse = undefined;
    this.#fs.reset();
  }

  /** Power off: loses the same volatile state as a reset. */
  powerOff(): void {
    this.reset();
  }

  /** Power on (cold reset). */
  powerOn(): void {
    this.reset();
  }

  /**
   * Sends one command APDU; returns the response (data + SW1 SW2). Throws `CardRemovedError` once the card is
   * pulled. Commands are answered one at a time, in order.
   */
  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const answer = this.#queue.then(() => this.#answer(apdu.slice()));
    this.#queue = answer.catch(() => {});
    return answer;
  }

  async #answer(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.#removed) throw new CardRemovedError("virtual");
    if (this.#failAfter !== undefined && this.#apduCount >= this.#failAfter) {
      this.#removed = true;
      throw new CardRemovedError("virtual");
    }
    if (this.#delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#delayMs));
    this.#apduCount++;
    try {
      return await this.#process(apdu);
    } finally {
      apdu.fill(0); // the command may carry a PIN
    }
  }

  async #process(apdu: Uint8Array): Promise<Uint8Array> {
    const command = parseCommand(apdu);
    if (!command) return sw(SW_WRONG_LENGTH);
    if (command.ins !== 0xc0) this.#pendingResponse = undefined;
    if (command.cla !== 0x00) return sw(SW_CLA_NOT_SUPPORTED);
    switch (command.ins) {
      case 0xa4:
        return this.#select(command);
      case 0xb0:
        return this.#readBinary(command);
      case 0xc0:
        return this.#getResponse(command);
      case 0xca:
      case 0xcb:
        return this.#getData(command);
      case 0x20:
        return await this.#verify(command);
      case 0x24:
        return await this.#changeReferenceData(command);
      case 0x2c:
        return await this.#resetRetryCounter(command);
      case 0x22:
        return this.#manageSecurityEnvironment(command);
      case 0x2a:
        return await this.#performSecurityOperation(command);
      case 0x84:
        return this.#respond(command, crypto.getRandomValues(new Uint8Array(command.le ?? 8)));
      default:
        return sw(SW_INS_NOT_SUPPORTED);
    }
  }

  /** Data and 9000; `61xx` when the command had no Le (T=0); `6Cxx` when Le is smaller than the data. */
  #respond(command: Command, data: Uint8Array, word = SW_OK): Uint8Array {
    if (data.length === 0) return sw(word);
    if (command.le === undefined) {
      this.#pendingResponse = data;
      return sw(0x6100 | (data.length >= 256 ? 0 : data.length));
    }
    if (command.le < data.length) return sw(0x6c00 | (data.length >= 256 ? 0 : data.length));
    const out = new Uint8Array(data.length + 2);
    out.set(data);
    out.set(sw(word), data.length);
    return out;
  }

  #getResponse(command: Command): Uint8Array {
    const pending = this.#pendingResponse;
    if (command.p1 !== 0 || command.p2 !== 0) return sw(SW_WRONG_P1P2);
    if (!pending) return sw(SW_CONDITIONS);
    const le = command.le ?? 256;
    const part = pending.subarray(0, le);
    const rest = pending.subarray(le);
    this.#pendingResponse = rest.length ? rest : undefined;
    const out = new Uint8Array(part.length + 2);
    out.set(part);
    out.set(sw(rest.length ? 0x6100 | (rest.length >= 256 ? 0 : rest.length) : SW_OK), part.length);
    return out;
  }

  // ---- SELECT, READ BINARY ---------------------------------------------------------------------------------------

  #select(command: Command): Uint8Array {
    const returns = command.p2 & 0xfc;
    if (returns !== 0x00 && returns !== 0x04 && returns !== 0x0c) return sw(SW_WRONG_P1P2);
    const result = this.#fs.resolve(command.p1, command.data);
    if ("sw" in result) return sw(result.sw);
    const file: CardFile = result.file;
    if (command.p1 === 0x04 && file.kind === "df" && file !== this.#application) {
      // Selecting another application ends the security state of the previous one.
      this.#forgetSecurityState();
      this.#application = file;
    }
    this.#fs.select(file);
    if (returns === 0x0c) return sw(SW_OK);
    return this.#respond(command, fcpOf(file));
  }

  #readBinary(command: Command): Uint8Array {
    if (command.p1 & 0x80) return sw(SW_FUNCTION_NOT_SUPPORTED); // short EF identifiers: not used by these cards
    if (command.data.length > 0 || command.le === undefined) return sw(SW_WRONG_LENGTH);
    const ef = this.#fs.currentEf;
    if (!ef) return sw(SW_NO_CURRENT_EF);
    const offset = (command.p1 << 8) | command.p2;
    if (offset >= ef.content.length) return sw(SW_WRONG_OFFSET);
    const remaining = ef.content.length - offset;
    const count = Math.min(command.le, READ_BINARY_CHUNK, remaining);
    const data = ef.content.subarray(offset, offset + count);
    // Le=00 asks "up to 256": what is there is a full answer. An explicit Le past the end gets 6282.
    const word = command.le !== 256 && command.le > remaining ? SW_END_OF_FILE : SW_OK;
    const out = new Uint8Array(data.length + 2);
    out.set(data);
    out.set(sw(word), data.length);
    return out;
  }

  // ---- PINs ------------------------------------------------------------------------------------------------------

  /** GET DATA `00 CB 00 FF 05 A0 03 83 01 <ref>`: the PIN's status template, without spending a try. */
  #getData(command: Command): Uint8Array {
    if (command.ins === 0xca || command.p1 !== 0x00 || command.p2 !== 0xff) return sw(SW_REFERENCE_NOT_FOUND);
    const d = command.data;
    if (d.length === 0) return sw(SW_WRONG_LENGTH);
    if (d.length !== 5 || d[0] !== 0xa0 || d[1] !== 0x03 || d[2] !== 0x83 || d[3] !== 0x01) {
      return sw(SW_WRONG_DATA);
    }
    const spec = this.#pins.specByReference(d[4]);
    if (!spec) return sw(SW_REFERENCE_NOT_FOUND);
    const state = this.#pins.get(spec.name);
    const body = [
      ...[0x83, 0x01, spec.reference],
      ...[0x8c, 0x04, 0xf0, 0x00, 0x00, 0x00],
      ...[0x9c, 0x04, 0xf0, 0x00, 0x00, 0x00],
      ...[0xdf, 0x21, 0x04, state.tries, 0xff, 0xa5, 0x03],
      ...[0xdf, 0x27, 0x02, 0xff, 0xff],
      ...[0xdf, 0x28, 0x01, spec.format.maxLength],
      ...[0xdf, 0x2f, 0x01, state.changed ? 0x01 : 0x00],
    ];
    return this.#respond(command, new Uint8Array([0xa0, body.length, ...body]));
  }

  /**
   * The digits of a PIN as the profile sends it (citizen: ASCII padded with 00 to 12 bytes; organisation:
   * unpadded), or the status word for a malformed one. No try is spent on a malformed PIN.
   */
  #pinDigits(name: VirtualPinName, data: Uint8Array): Uint8Array | number {
    const format = this.profile.pins.find((p) => p.name === name)!.format;
    let digits = data;
    if (format.paddedLength) {
      if (data.length !== format.paddedLength) return SW_WRONG_LENGTH;
      const end = data.indexOf(0x00);
      digits = end < 0 ? data : data.subarray(0, end);
      if (data.subarray(digits.length).some((b) => b !== 0x00)) return SW_WRONG_DATA;
      if (digits.length < format.minLength) return SW_WRONG_DATA;
    } else if (data.length < format.minLength || data.length > format.maxLength) {
      return SW_WRONG_LENGTH;
    }
    if (!isDigits(digits)) return SW_WRONG_DATA;
    return digits;
  }

  /** A wrong PIN costs one try: `63 Cx` with x left (`63 C0` when that was the last). */
  async #countWrong(name: VirtualPinName): Promise<Uint8Array> {
    const tries = Math.max(0, this.#pins.get(name).tries - 1);
    await this.#pins.setTries(name, tries);
    this.#verified.delete(name);
    return sw(0x63c0 | tries);
  }

  async #verify(command: Command): Promise<Uint8Array> {
    const spec = this.#pins.specByReference(command.p2);
    if (command.p1 === 0xff && command.data.length === 0 && spec) {
      this.#verified.delete(spec.name); // ISO 7816-4: reset the verification status
      return sw(SW_OK);
    }
    if (command.p1 !== 0x00) return sw(SW_WRONG_P1P2);
    if (!spec) return sw(SW_REFERENCE_NOT_FOUND);
    const state = this.#pins.get(spec.name);
    if (command.data.length === 0) {
      if (state.tries === 0) return sw(SW_BLOCKED);
      return this.#verified.has(spec.name) ? sw(SW_OK) : sw(0x63c0 | state.tries);
    }
    if (state.tries === 0) return sw(SW_BLOCKED);
    const digits = this.#pinDigits(spec.name, command.data);
    if (typeof digits === "number") return sw(digits);
    try {
      if (!(await this.#pins.matches(spec.name, digits))) return await this.#countWrong(spec.name);
    } finally {
      digits.fill(0);
    }
    await this.#pins.setTries(spec.name, MAX_TRIES);
    this.#verified.add(spec.name);
    return sw(SW_OK);
  }

  /** Splits `old || new` of CHANGE REFERENCE DATA / `PUK || new` of RESET RETRY COUNTER. */
  async #splitPair(
    first: VirtualPinName,
    second: VirtualPinName,
    data: Uint8Array,
  ): Promise<{ first: Uint8Array; second: Uint8Array } | number> {
    const firstFormat = this.profile.pins.find((p) => p.name === first)!.format;
    if (firstFormat.paddedLength) {
      const split = firstFormat.paddedLength;
      if (data.length !== split + this.profile.pins.find((p) => p.name === second)!.format.paddedLength!) {
        return SW_WRONG_LENGTH;
      }
      const a = this.#pinDigits(first, data.subarray(0, split));
      if (typeof a === "number") return a;
      const b = this.#pinDigits(second, data.subarray(split));
      if (typeof b === "number") return b;
      return { first: a, second: b };
    }
    // Unpadded (organisation): the first PIN is as long as the stored value, found by trying the lengths.
    for (let length = firstFormat.minLength; length <= Math.min(firstFormat.maxLength, data.length); length++) {
      const candidate = data.subarray(0, length);
      if (isDigits(candidate) && await this.#pins.matches(first, candidate)) {
        const b = this.#pinDigits(second, data.subarray(length));
        if (typeof b === "number") return b;
        return { first: candidate, second: b };
      }
    }
    if (!isDigits(data)) return SW_WRONG_DATA;
    return { first: new Uint8Array(), second: new Uint8Array() }; // no length matched: a wrong PIN
  }

  /** CHANGE REFERENCE DATA `00 24 00 <ref>` with old and new PIN. */
  async #changeReferenceData(command: Command): Promise<Uint8Array> {
    if (command.p1 !== 0x00) return sw(SW_WRONG_P1P2);
    const spec = this.#pins.specByReference(command.p2);
    if (!spec) return sw(SW_REFERENCE_NOT_FOUND);
    if (command.data.length === 0) return sw(SW_WRONG_LENGTH);
    if (this.#pins.get(spec.name).tries === 0) return sw(SW_BLOCKED);
    const pair = await this.#splitPair(spec.name, spec.name, command.data);
    if (typeof pair === "number") return sw(pair);
    try {
      if (pair.first.length === 0 || !(await this.#pins.matches(spec.name, pair.first))) {
        return await this.#countWrong(spec.name);
      }
      await this.#pins.setValue(spec.name, pair.second);
      this.#verified.add(spec.name);
      return sw(SW_OK);
    } finally {
      pair.first.fill(0);
      pair.second.fill(0);
    }
  }

  /**
   * RESET RETRY COUNTER `00 2C <P1> <ref>`: P1=00 PUK and new PIN (or the PUK alone), P1=01 the PUK alone,
   * P1=02 the new PIN alone and P1=03 nothing, both after the PUK was verified.
   */
  async #resetRetryCounter(command: Command): Promise<Uint8Array> {
    const spec = this.#pins.specByReference(command.p2);
    if (!spec) return sw(SW_REFERENCE_NOT_FOUND);
    if (spec.name === "PUK") return sw(SW_WRONG_P1P2);
    const p1 = command.p1;
    if (p1 > 0x03) return sw(SW_WRONG_P1P2);
    if (p1 === 0x02 || p1 === 0x03) {
      if (!this.#verified.has("PUK")) return sw(SW_SECURITY);
      if (p1 === 0x03) {
        if (command.data.length) return sw(SW_WRONG_LENGTH);
        await this.#pins.setTries(spec.name, MAX_TRIES);
        return sw(SW_OK);
      }
      const digits = this.#pinDigits(spec.name, command.data);
      if (typeof digits === "number") return sw(digits);
      await this.#pins.setValue(spec.name, digits);
      digits.fill(0);
      return sw(SW_OK);
    }
    if (command.data.length === 0) return sw(SW_WRONG_LENGTH);
    if (this.#pins.get("PUK").tries === 0) return sw(SW_BLOCKED);
    const pukFormat = this.profile.pins.find((p) => p.name === "PUK")!.format;
    const pukOnly = command.data.length <= (pukFormat.paddedLength ?? pukFormat.maxLength) || p1 === 0x01;
    let puk: Uint8Array;
    let newPin: Uint8Array | undefined;
    if (pukOnly) {
      const digits = this.#pinDigits("PUK", command.data);
      if (typeof digits === "number") return sw(digits);
      puk = digits;
    } else {
      const pair = await this.#splitPair("PUK", spec.name, command.data);
      if (typeof pair === "number") return sw(pair);
      puk = pair.first;
      newPin = pair.second;
    }
    try {
      if (puk.length === 0 || !(await this.#pins.matches("PUK", puk))) return await this.#countWrong("PUK");
      await this.#pins.setTries("PUK", MAX_TRIES);
      if (newPin) await this.#pins.setValue(spec.name, newPin);
      else await this.#pins.setTries(spec.name, MAX_TRIES);
      return sw(SW_OK);
    } finally {
      puk.fill(0);
      newPin?.fill(0);
    }
  }

  // ---- signing ---------------------------------------------------------------------------------------------------

  /** MSE:SET `00 22 41 B6 06 80 01 <alg> 84 01 <keyref>` (DST; AT `41 A4` alike), MSE:RESTORE `00 22 F3 xx`. */
  #manageSecurityEnvironment(command: Command): Uint8Array {
    if (command.p1 === 0xf3) {
      this.#environment = undefined;
      this.#loadedHash = undefined;
      return sw(SW_OK);
    }
    if (command.p1 !== 0x41 || (command.p2 !== 0xb6 && command.p2 !== 0xa4)) return sw(SW_WRONG_P1P2);
    const d = command.data;
    if (d.length === 0) return sw(SW_WRONG_LENGTH);
    let algorithm: number | undefined;
    let reference: number | undefined;
    for (let at = 0; at < d.length;) {
      const tag = d[at];
      const length = d[at + 1];
      if (length === undefined || at + 2 + length > d.length) return sw(SW_WRONG_DATA);
      const value = d.subarray(at + 2, at + 2 + length);
      if (tag === 0x80 && length === 1) algorithm = value[0];
      else if ((tag === 0x84 || tag === 0x83) && length === 1) reference = value[0];
      else return sw(SW_WRONG_DATA);
      at += 2 + length;
    }
    if (reference === undefined) return sw(SW_WRONG_DATA);
    const key = this.#keys.find((k) => k.spec.reference === reference);
    if (!key) return sw(SW_REFERENCE_NOT_FOUND);
    if (key.spec.localTo) {
      // A key local to a DF (organisation key 82 in DF.ESIGN) is only found from inside that DF.
      const here = this.#fs.pathOf(this.#fs.currentDf).slice(1);
      const wanted = fidPath(key.spec.localTo);
      if (here.length !== wanted.length || here.some((f, i) => f !== wanted[i])) return sw(SW_REFERENCE_NOT_FOUND);
    }
    const defaultAlgorithm = key.key.isEc ? (key.spec.algorithm === "EC P-384" ? 0x54 : 0x44) : 0x42;
    const alg = algorithm ?? defaultAlgorithm;
    const hash = HASH_BY_NIBBLE[alg >> 4];
    const scheme = SCHEME_BY_NIBBLE[alg & 0x0f];
    if (!hash || !scheme) return sw(SW_WRONG_DATA);
    if (key.key.isEc !== (scheme === "ecdsa")) return sw(SW_WRONG_DATA);
    this.#environment = { template: command.p2 === 0xb6 ? "DST" : "AT", key, hash, scheme };
    this.#loadedHash = undefined;
    return sw(SW_OK);
  }

  /** A hash as the key signs it: left zero padding beyond the algorithm's hash length removed (OpenSC pads). */
  #normalizeHash(environment: SecurityEnvironment, hash: Uint8Array): Uint8Array | undefined {
    const expected = HASH_LENGTH[environment.hash];
    let value = hash;
    if (value.length > expected && value.subarray(0, value.length - expected).every((b) => b === 0)) {
      value = value.subarray(value.length - expected);
    }
    if (environment.key.key.isEc) return [28, 32, 48, 64].includes(value.length) ? value : undefined;
    return value.length === expected ? value : undefined;
  }

  async #performSecurityOperation(command: Command): Promise<Uint8Array> {
    const op = (command.p1 << 8) | command.p2;
    if (op === 0x90a0 && !this.profile.inlineDigest) return this.#psoHash(command);
    if (op === 0x9e9a) return await this.#psoComputeSignature(command);
    return sw(SW_WRONG_P1P2);
  }

  /** PSO:HASH `00 2A 90 A0 <Lc> 90 <len> <hash>`: loads the bare hash for the next signature. */
  #psoHash(command: Command): Uint8Array {
    const d = command.data;
    if (d.length === 0) return sw(SW_WRONG_LENGTH);
    if (d.length < 2 || d[0] !== 0x90 || d[1] !== d.length - 2) return sw(SW_WRONG_DATA);
    const environment = this.#environment;
    if (!environment || environment.template !== "DST") return sw(SW_CONDITIONS);
    const hash = this.#normalizeHash(environment, d.subarray(2));
    if (!hash) return sw(SW_WRONG_DATA);
    this.#loadedHash = hash.slice();
    return sw(SW_OK);
  }

  /**
   * PSO:COMPUTE DIGITAL SIGNATURE `00 2A 9E 9A 00`: signs the loaded hash (citizen cards) or the hash or DigestInfo
   * given inline (organisation cards). The loaded hash is consumed whatever the outcome.
   */
  async #psoComputeSignature(command: Command): Promise<Uint8Array> {
    const loaded = this.#loadedHash;
    this.#loadedHash = undefined;
    const environment = this.#environment;
    if (!environment || environment.template !== "DST") return sw(SW_CONDITIONS);
    if (!this.#verified.has(environment.key.spec.pin)) return sw(SW_SECURITY);
    const { key } = environment.key;
    let hash: Uint8Array;
    let info: Uint8Array | undefined;
    if (this.profile.inlineDigest) {
      if (command.data.length === 0) return sw(SW_WRONG_LENGTH);
      const infoHash = digestInfoHash(command.data);
      if (infoHash && !key.isEc) {
        if (infoHash !== environment.hash && environment.scheme === "pss") return sw(SW_WRONG_DATA);
        info = command.data;
        hash = command.data.subarray(command.data.length - HASH_LENGTH[infoHash]);
      } else {
        const normalized = this.#normalizeHash(environment, command.data);
        if (!normalized) return sw(SW_WRONG_DATA);
        hash = normalized;
      }
    } else {
      if (command.data.length > 0) return sw(SW_WRONG_DATA);
      if (!loaded) return sw(SW_CONDITIONS);
      hash = loaded;
    }
    let signature: Uint8Array;
    if (environment.scheme === "ecdsa") signature = await key.signEcdsa(hash);
    else if (environment.scheme === "pss") signature = await key.signPss(environment.hash, hash);
    else signature = await key.signPkcs1(info ?? digestInfo(environment.hash, hash));
    return this.#respond(command, signature);
  }

  #forgetSecurityState(): void {
    this.#verified.clear();
    this.#environment = undefined;
    this.#loadedHash = undefined;
  }
}

/** The file tree of a profile, with its PKCS#15 files and certificates. */
function buildFiles(profile: ProfileSpec): DedicatedFile {
  const ef = (fid: number, content: Uint8Array) => ({ kind: "ef" as const, fid, content });
  const pkcs15Path = ["3F00", "5015"];
  const authIds: Record<VirtualPinName, number> = { PIN1: 1, PIN2: 2, PUK: 3 };
  const certificates = profile.keys.map((spec) => ({
    spec,
    der: decodeBase64(EMBEDDED_KEYS[spec.embedded].certificate),
  }));
  const keyId = (spec: KeySpec) => (spec.key === "auth" ? 1 : 2);
  const pkcs15: DedicatedFile = {
    kind: "df",
    fid: FID.pkcs15,
    name: PKCS15_AID,
    children: [
      ef(
        FID.odf,
        encodeOdf({
          authObjects: [...pkcs15Path, "4401"],
          privateKeys: [...pkcs15Path, "4402"],
          certificates: [...pkcs15Path, "4403"],
        }),
      ),
      ef(
        FID.tokenInfo,
        encodeTokenInfo({
          serialNumber: profile.serialNumber,
          manufacturer: profile.manufacturer,
          label: profile.tokenLabel,
        }),
      ),
      ef(
        FID.aodf,
        encodeAodf(profile.pins.map((pin) => ({
          label: pin.label,
          authId: authIds[pin.name],
          reference: pin.reference,
          minLength: pin.format.minLength,
          maxLength: pin.format.maxLength,
          paddedLength: pin.format.paddedLength,
          unblocking: pin.name === "PUK",
          path: ["3F00"],
        }))),
      ),
      ef(
        FID.prkdf,
        encodePrkdf(profile.keys.map((spec) => ({
          label: spec.keyLabel,
          id: keyId(spec),
          authId: authIds[spec.pin],
          reference: spec.reference,
          usage: spec.key,
          type: spec.algorithm.startsWith("EC") ? "ec" : "rsa",
          bits: spec.algorithm === "EC P-256" ? 256 : spec.algorithm === "EC P-384" ? 384 : 2048,
          path: ["3F00", ...(spec.localTo ?? [])],
        }))),
      ),
      ef(
        FID.cdf,
        encodeCdf(certificates.map(({ spec, der }) => ({
          label: spec.certificateLabel,
          id: keyId(spec),
          path: ["3F00", ...spec.certificatePath],
          length: der.length,
        }))),
      ),
    ],
  };
  const mf: DedicatedFile = {
    kind: "df",
    fid: FID.mf,
    children: [ef(FID.dir, encodeDirRecord(PKCS15_AID, "FINEID", pkcs15Path)), pkcs15],
  };
  for (const { spec, der } of certificates) {
    let at = mf;
    const path = spec.certificatePath;
    for (const dfFid of path.slice(0, -1)) {
      const fid = parseInt(dfFid, 16);
      let child = at.children.find((c): c is DedicatedFile => c.kind === "df" && c.fid === fid);
      if (!child) {
        child = { kind: "df", fid, children: [] };
        if (fid === 0x5016 && profile.signatureDfName) child.name = profile.signatureDfName;
        at.children.push(child);
      }
      at = child;
    }
    at.children.push(ef(parseInt(path[path.length - 1], 16), der));
  }
  return mf;
}
