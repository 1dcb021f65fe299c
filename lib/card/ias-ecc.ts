/**
 * DVV organisation cards (IAS-ECC: Idemia Cosmo X, ID.me, Oberthur Cosmo v7), from docs/fineid-cards.md,
 * "Organisation cards": PINs 03/04/12 sent unpadded (at most 8 digits), the signature key 82 inside DF.ESIGN
 * (selected by name), and no PSO:HASH: PSO:CDS takes the DigestInfo inline. The doc does not publish where the
 * authentication certificate is: kortti looks where citizen cards keep it and otherwise asks the card's PKCS#15
 * files (the generic reader this class extends).
 *
 * @example
 * ```ts
 * import { IasEccCard } from "./ias-ecc.ts";
 * import type { CardContext } from "./base.ts";
 * declare const context: CardContext;
 * const card = new IasEccCard(context);
 * console.log((await card.pinStatus("PIN2")).triesLeft);
 * ```
 * @module
 */

import { command, fromHex, SW, toHex } from "../apdu.ts";
import { UnexpectedCardAnswerError } from "../errors.ts";
import { algorithmByte, type KeyFacts, mseSetDstApdu } from "./base.ts";
import type { CardCertificate, CardFamily, HashName, KeyName, SignatureScheme } from "./card.ts";
import { PKCS15_AID } from "./citizen.ts";
import type { PinFacts } from "./pins.ts";
import { Pkcs15Card } from "./pkcs15.ts";

/** "Organisation cards": DF.ESIGN by name, `00 A4 04 0C 06 45 2E 53 49 47 4E` ("E.SIGN"). */
export const DF_ESIGN_NAME = new TextEncoder().encode("E.SIGN");

/** "Organisation cards": PIN references, sent unpadded, at most 8 digits. */
export const ORG_PINS: readonly PinFacts[] = [
  { name: "PIN1", reference: 0x03, minLength: 4, maxLength: 8 },
  { name: "PIN2", reference: 0x04, minLength: 4, maxLength: 8 },
  { name: "PUK", reference: 0x12, minLength: 6, maxLength: 8 },
];

/**
 * "Organisation cards": the qualified signature key 82, local to DF.ESIGN, and its certificate 5016/4332. The doc is
 * silent on the authentication key: kortti looks first where citizen cards keep it (4331, key 01) and, when that
 * file is absent, asks the card's PKCS#15 files.
 */
export const ORG_KEYS: readonly KeyFacts[] = [
  { key: "auth", keyReference: 0x01, pin: "PIN1", certificatePath: "3F00/4331", schemes: ["pkcs1"] },
  { key: "sign", keyReference: 0x82, pin: "PIN2", certificatePath: "3F00/5016/4332", schemes: ["pkcs1"] },
];

/** A VERIFY status probe on `11` answers `6A 88` on organisation cards: what tells them from citizen cards. */
export const ORG_PROBE = command(0x00, 0x20, 0x00, 0x11);
/** What an organisation card answers to `ORG_PROBE`. */
export const ORG_PROBE_ANSWER = SW.REFERENCE_NOT_FOUND;

/** DigestInfo prefixes (RFC 8017, section 9.2, note 1) for the inline PKCS#1 v1.5 signature. */
const DIGEST_INFO_PREFIX: Record<HashName, Uint8Array> = {
  sha256: fromHex("3031300D060960864801650304020105000420"),
  sha384: fromHex("3041300D060960864801650304020205000430"),
  sha512: fromHex("3051300D060960864801650304020305000440"),
};

/**
 * The DigestInfo of a hash (what RSASSA-PKCS1-v1_5 signs).
 *
 * @example
 * ```ts
 * import { digestInfo } from "./ias-ecc.ts";
 * digestInfo("sha256", new Uint8Array(32)).length; // 51
 * ```
 */
export function digestInfo(hash: HashName, digest: Uint8Array): Uint8Array {
  const prefix = DIGEST_INFO_PREFIX[hash];
  const out = new Uint8Array(prefix.length + digest.length);
  out.set(prefix);
  out.set(digest, prefix.length);
  return out;
}

/** PSO:COMPUTE DIGITAL SIGNATURE with the data inline: `00 2A 9E 9A <Lc> <data> 00`. */
export function psoCdsInlineApdu(data: Uint8Array): Uint8Array {
  return command(0x00, 0x2a, 0x9e, 0x9a, data, 0);
}

/** An organisation card. */
export class IasEccCard extends Pkcs15Card {
  override readonly family: CardFamily = "dvv-org";

  #discovered = false;

  protected override async keys(): Promise<KeyFacts[]> {
    if (!this.#discovered) return [...ORG_KEYS];
    const found = await super.keys();
    return ORG_KEYS.map((facts) => {
      const seen = found.find((k) => k.key === facts.key);
      if (!seen) return facts;
      // The doc states the signature key (82); for the authentication key the card's PrKDF is the authority.
      const keyReference = facts.key === "auth" ? seen.keyReference : facts.keyReference;
      return {
        ...facts,
        keyReference,
        certificatePath: seen.certificatePath,
        ...(seen.label ? { label: seen.label } : {}),
      };
    });
  }

  override async certificates(keys?: KeyName[]): Promise<CardCertificate[]> {
    const out = await super.certificates(keys);
    const wanted = keys ?? ["auth", "sign"];
    if (this.#discovered || wanted.every((k) => out.some((c) => c.key === k))) return out;
    this.#discovered = true;
    return await super.certificates(keys);
  }

  protected override pins(): Promise<PinFacts[]> {
    return Promise.resolve([...ORG_PINS]);
  }

  /** PIN2 may be local to DF.ESIGN: when the card does not know it where we are, ask inside DF.ESIGN. */
  protected override async readTries(facts: PinFacts): Promise<{ triesLeft: number | null; blocked: boolean }> {
    try {
      return await super.readTries(facts);
    } catch (error) {
      const local = error instanceof UnexpectedCardAnswerError && error.statusWord === SW.REFERENCE_NOT_FOUND;
      if (!local || facts.name !== "PIN2" || this.files.selected === `name:${toHex(DF_ESIGN_NAME)}`) throw error;
      const sw = await this.files.selectByName(DF_ESIGN_NAME);
      if (sw !== SW.OK) throw new UnexpectedCardAnswerError("SELECT DF.ESIGN", sw);
      return await super.readTries(facts);
    }
  }

  /** The signature key and PIN2 live in DF.ESIGN; the authentication key in the PKCS#15 application. */
  protected override async prepareSigning(key: KeyFacts): Promise<void> {
    const sw = await this.files.selectByName(key.key === "sign" ? DF_ESIGN_NAME : PKCS15_AID);
    if (sw !== SW.OK) throw new UnexpectedCardAnswerError(`SELECT ${key.key === "sign" ? "DF.ESIGN" : "PKCS#15"}`, sw);
  }

  /** "Organisation cards": MSE:SET DST, then PSO:CDS with the DigestInfo (RSA) or the hash (EC) inline. */
  protected override async signAfterVerify(
    key: KeyFacts,
    digest: Uint8Array,
    hash: HashName,
    scheme: SignatureScheme,
  ): Promise<Uint8Array> {
    await this.expectOk(mseSetDstApdu(algorithmByte(hash, scheme), key.keyReference), "MSE:SET DST");
    const data = scheme === "pkcs1" ? digestInfo(hash, digest) : digest;
    return await this.expectOk(psoCdsInlineApdu(data), "PSO:COMPUTE DIGITAL SIGNATURE");
  }
}
