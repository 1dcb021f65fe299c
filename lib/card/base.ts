/**
 * The protocol of DVV cards, written once: certificates read through `CardFiles`, PIN state without spending a try,
 * and the signing path (PIN state, last-try guard, PIN asked right before VERIFY, VERIFY never retried, the PIN
 * buffer zeroed right after, then the family's signing APDUs). Each family (`fineid-v4.ts`, `fineid-v3.ts`,
 * `ias-ecc.ts`, `pkcs15.ts`) states only its facts and what differs.
 *
 * @example
 * ```ts
 * import type { Card } from "./card.ts";
 * async function signAuth(card: Card, digest: Uint8Array, pin: Uint8Array) {
 *   return await card.sign({ key: "auth", digest, hash: "sha384", pin: () => Promise.resolve(pin) });
 * }
 * ```
 * @module
 */

import { type ApduChannel, command, SW, toHex } from "../apdu.ts";
import {
  NoMatchingKeyError,
  PinBlockedError,
  PinLastTryError,
  UnexpectedCardAnswerError,
  UsageError,
} from "../errors.ts";
import type { Transport } from "../transport.ts";
import type {
  Card,
  CardCertificate,
  CardFamily,
  CardSignRequest,
  HashName,
  KeyName,
  PinName,
  PinState,
  SignatureScheme,
} from "./card.ts";
import { certificateFacts, derLength } from "./cert-facts.ts";
import { CardFiles, type FilePath } from "./files.ts";
import {
  checkPinFormat,
  getPinStatusApdu,
  type PinFacts,
  pinStatusFromGetData,
  pinStatusFromVerifyStatus,
  verifyApdu,
  verifyFailure,
  verifyStatusApdu,
} from "./pins.ts";
import { parseTlv } from "./tlv.ts";

/** What a card class states about one of its keys. */
export interface KeyFacts {
  /** `auth` or `sign`. */
  key: KeyName;
  /** The private key's reference for MSE:SET. */
  keyReference: number;
  /** The PIN that unlocks it. */
  pin: PinName;
  /** Where its certificate is. */
  certificatePath: FilePath;
  /** The schemes the key signs with; the first is the default for RSA keys. */
  schemes: SignatureScheme[];
  /** PKCS#15 label, when known. */
  label?: string;
}

/** Signature algorithm byte of MSE:SET DST: high nibble the hash, low nibble the scheme. */
const HASH_NIBBLE: Record<HashName, number> = { sha256: 0x40, sha384: 0x50, sha512: 0x60 };
const SCHEME_NIBBLE: Record<SignatureScheme, number> = { pkcs1: 0x02, ecdsa: 0x04, pss: 0x05 };
/** Digest length of each hash. */
export const DIGEST_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48, sha512: 64 };

/**
 * The MSE:SET DST algorithm byte (docs/fineid-cards.md, "Signing").
 *
 * @example
 * ```ts
 * import { algorithmByte } from "./base.ts";
 * algorithmByte("sha384", "ecdsa"); // 0x54
 * ```
 */
export function algorithmByte(hash: HashName, scheme: SignatureScheme): number {
  return HASH_NIBBLE[hash] | SCHEME_NIBBLE[scheme];
}

/** MSE:SET DST `00 22 41 B6 06 80 01 <alg> 84 01 <keyref>`. */
export function mseSetDstApdu(algorithm: number, keyReference: number): Uint8Array {
  return command(0x00, 0x22, 0x41, 0xb6, new Uint8Array([0x80, 0x01, algorithm, 0x84, 0x01, keyReference]));
}

/** Options every card class takes. */
export interface CardContext {
  /** The channel every APDU goes through. */
  channel: ApduChannel;
  /** Model name from the ATR table (`Thales MultiApp 5.0`), or `unknown`. */
  model: string;
}

/**
 * The common base of the card classes. Subclasses give their keys, PINs, where the token info is, and the APDUs
 * that follow a successful VERIFY.
 */
export abstract class BaseCard implements Card {
  abstract readonly family: CardFamily;
  readonly model: string;
  protected readonly channel: ApduChannel;
  protected readonly files: CardFiles;
  #transactionDepth = 0;

  constructor(context: CardContext) {
    this.channel = context.channel;
    this.model = context.model;
    this.files = new CardFiles(context.channel);
  }

  /** The keys of this card. */
  protected abstract keys(): Promise<KeyFacts[]>;
  /** The PINs of this card, PUK included. */
  protected abstract pins(): Promise<PinFacts[]>;
  /** Where EF.TokenInfo is, or undefined. */
  protected abstract tokenInfoPath(): Promise<FilePath | undefined>;
  /** Selects what VERIFY and signing with this key need (the application, DF.ESIGN...). */
  protected abstract prepareSigning(key: KeyFacts): Promise<void>;
  /** The APDUs after a successful VERIFY; returns the signature as the card gives it. */
  protected abstract signAfterVerify(
    key: KeyFacts,
    digest: Uint8Array,
    hash: HashName,
    scheme: SignatureScheme,
  ): Promise<Uint8Array>;

  /** How to read a PIN's tries left: GET DATA on citizen cards, the empty VERIFY elsewhere. */
  protected pinStatusMethod: "get-data" | "verify" = "get-data";

  get transport(): Transport {
    return this.channel.transport;
  }
  get readerName(): string {
    return this.channel.transport.readerName;
  }
  get atr(): string {
    return toHex(this.channel.transport.atr);
  }
  get apduCount(): number {
    return this.channel.count;
  }

  /**
   * Runs `work` inside one PC/SC transaction (nested calls share it). What this object knows of the card's current
   * selection holds only inside one transaction.
   */
  protected async exclusive<T>(work: () => Promise<T>): Promise<T> {
    const transport = this.channel.transport;
    if (this.#transactionDepth > 0 || !transport.beginTransaction) return await work();
    await transport.beginTransaction();
    // Between two transactions another program may have selected something else on a shared card.
    this.files.forgetSelection();
    this.#transactionDepth++;
    let result: T;
    try {
      result = await work();
    } catch (error) {
      this.#transactionDepth--;
      await transport.endTransaction?.().catch(() => undefined);
      throw error;
    }
    this.#transactionDepth--;
    await transport.endTransaction?.();
    return result;
  }

  async serialNumber(): Promise<string | undefined> {
    return await this.exclusive(async () => {
      const path = await this.tokenInfoPath();
      let content = path ? await this.files.read(path) : null;
      if (!content && path?.startsWith("3F00/")) {
        // Not where this family keeps it: ask the PKCS#15 application itself.
        if (await this.files.selectByName(PKCS15_AID) === SW.OK) {
          content = await this.files.read(EF_TOKEN_INFO_RELATIVE);
        }
      }
      return content ? tokenInfoSerial(content) : undefined;
    });
  }

  async certificates(keys?: KeyName[]): Promise<CardCertificate[]> {
    return await this.exclusive(async () => {
      const out: CardCertificate[] = [];
      const facts = await this.keys();
      for (const key of facts) {
        if (keys && !keys.includes(key.key)) continue;
        const content = await this.files.read(key.certificatePath);
        if (!content || content.length === 0 || content[0] !== 0x30) continue;
        const pin = await this.pinFacts(key.pin);
        const certificate: CardCertificate = {
          key: key.key,
          keyReference: hexByte(key.keyReference),
          pin: key.pin,
          pinReference: hexByte(pin.reference),
          der: content.slice(0, derLength(content)),
          path: key.certificatePath.replace(/^\.\//, ""),
        };
        if (key.label) certificate.label = key.label;
        out.push(certificate);
      }
      return out;
    });
  }

  async pinStatus(name: PinName): Promise<PinState> {
    return await this.exclusive(async () => {
      const facts = await this.pinFacts(name);
      return { name, reference: hexByte(facts.reference), ...await this.readTries(facts) };
    });
  }

  /** Tries left of a PIN, by GET DATA or, where that is not supported, the empty VERIFY. */
  protected async readTries(facts: PinFacts): Promise<{ triesLeft: number | null; blocked: boolean }> {
    if (this.pinStatusMethod === "get-data") {
      const response = await this.channel.send(getPinStatusApdu(facts.reference));
      if (response.sw === SW.OK) {
        const state = pinStatusFromGetData(response.data);
        if (state) return state;
      } else if (response.sw === SW.REFERENCE_NOT_FOUND) {
        throw new UnexpectedCardAnswerError(`GET DATA ${facts.name} status`, response.sw);
      }
    }
    const { sw } = await this.channel.send(verifyStatusApdu(facts.reference));
    const state = pinStatusFromVerifyStatus(sw);
    if (!state) throw new UnexpectedCardAnswerError(`VERIFY ${facts.name} (status)`, sw);
    return state;
  }

  /** The facts of a PIN by name; NoMatchingKeyError when the card has no such PIN. */
  protected async pinFacts(name: PinName): Promise<PinFacts> {
    const facts = (await this.pins()).find((p) => p.name === name);
    if (!facts) throw new NoMatchingKeyError(`this card has no ${name}`);
    return facts;
  }

  /** The facts of a key by name; NoMatchingKeyError when the card has no such key. */
  protected async keyFacts(name: KeyName): Promise<KeyFacts> {
    const facts = (await this.keys()).find((k) => k.key === name);
    if (!facts) {
      throw new NoMatchingKeyError(`this card has no ${name === "auth" ? "authentication" : "signature"} key`);
    }
    return facts;
  }

  async sign(request: CardSignRequest): Promise<Uint8Array> {
    if (request.digest.length !== DIGEST_LENGTH[request.hash]) {
      throw new UsageError(
        `a ${request.hash} digest is ${DIGEST_LENGTH[request.hash]} bytes, not ${request.digest.length}`,
      );
    }
    return await this.exclusive(async () => {
      const key = await this.keyFacts(request.key);
      const scheme = request.scheme && key.schemes.includes(request.scheme) ? request.scheme : key.schemes[0];
      if (request.scheme && !key.schemes.includes(request.scheme) && key.schemes[0] !== "ecdsa") {
        throw new NoMatchingKeyError(`the ${request.key} key does not sign with ${request.scheme}`);
      }
      const pin = await this.pinFacts(key.pin);
      await this.prepareSigning(key);
      const state = await this.readTries(pin);
      if (state.blocked) throw new PinBlockedError(pin.name);
      if (state.triesLeft === 1 && !request.allowLastTry) throw new PinLastTryError(pin.name);
      await this.verify(pin, request, state.triesLeft);
      return await this.signAfterVerify(key, request.digest, request.hash, scheme);
    });
  }

  /** Asks for the PIN, checks its form, sends VERIFY once and zeroes every copy of the PIN right after. */
  protected async verify(pin: PinFacts, request: CardSignRequest, triesLeft: number | null): Promise<void> {
    const holder = await this.cachedHolder(request.key);
    const digits = await request.pin({
      pin: pin.name,
      key: request.key,
      triesLeft,
      ...(holder ? { holder } : {}),
    });
    let apdu: Uint8Array | undefined;
    try {
      checkPinFormat(pin, digits);
      apdu = verifyApdu(pin, digits);
      digits.fill(0);
      const { sw } = await this.channel.send(apdu);
      if (sw !== SW.OK) throw verifyFailure(pin, sw);
    } finally {
      digits.fill(0);
      apdu?.fill(0);
    }
  }

  /** The holder's name from a certificate already read (never reads one only for the prompt). */
  protected async cachedHolder(key: KeyName): Promise<string | undefined> {
    const facts = (await this.keys()).find((k) => k.key === key);
    const content = facts ? this.files.cached(facts.certificatePath) : undefined;
    if (!content) return undefined;
    try {
      return certificateFacts(content).subjectCommonName;
    } catch {
      return undefined;
    }
  }

  /** Sends a command that must answer `9000` and returns its data. */
  protected async expectOk(apdu: Uint8Array, what: string): Promise<Uint8Array> {
    const response = await this.channel.send(apdu);
    if (response.sw !== SW.OK) throw new UnexpectedCardAnswerError(what, response.sw);
    return response.data;
  }

  async close(): Promise<void> {
    await this.channel.transport.close();
  }
}

/** "Application and files": the PKCS#15 application, `00 A4 04 0C 0C <AID>`. */
export const PKCS15_AID = new Uint8Array([0xa0, 0x00, 0x00, 0x00, 0x63, 0x50, 0x4b, 0x43, 0x53, 0x2d, 0x31, 0x35]);
/** EF.TokenInfo 5032, relative to the PKCS#15 application. */
const EF_TOKEN_INFO_RELATIVE: FilePath = "./5032";

/** A byte as two upper-case hex digits. */
export function hexByte(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, "0");
}

/**
 * The serial number in EF.TokenInfo (`SEQUENCE { version INTEGER, serialNumber OCTET STRING, ... }`): as text when
 * it is printable, else hex.
 */
export function tokenInfoSerial(content: Uint8Array): string | undefined {
  try {
    const serial = parseTlv(content.subarray(0, derLength(content)))[0]?.children?.[1];
    if (!serial || serial.tag !== 0x04) return undefined;
    return /^[\x21-\x7e]+$/.test(new TextDecoder().decode(serial.value))
      ? new TextDecoder().decode(serial.value)
      : toHex(serial.value);
  } catch {
    return undefined;
  }
}
