/**
 * The FINEID citizen-card protocol shared by v3 (Gemalto MultiApp) and v4 (Thales MultiApp 5.0), from
 * docs/fineid-cards.md: the PKCS#15 application, GET DATA PIN status, VERIFY padded to 12 bytes, and signing with
 * MSE:SET DST, PSO:HASH (the bare hash) and PSO:COMPUTE DIGITAL SIGNATURE. The family classes state only their keys.
 *
 * @example
 * ```ts
 * import { FineIdV4Card } from "./fineid-v4.ts";
 * import type { CardContext } from "./base.ts";
 * declare const context: CardContext;
 * const card = new FineIdV4Card(context); // a CitizenCard
 * console.log(await card.serialNumber());
 * ```
 * @module
 */

import { command, SW } from "../apdu.ts";
import { UnexpectedCardAnswerError } from "../errors.ts";
import { algorithmByte, BaseCard, type KeyFacts, mseSetDstApdu, PKCS15_AID } from "./base.ts";
import type { HashName, SignatureScheme } from "./card.ts";
import type { FilePath } from "./files.ts";
import type { PinFacts } from "./pins.ts";

export { PKCS15_AID } from "./base.ts";
/** "Application and files": EF.TokenInfo 5032 in the PKCS#15 application DF 5015 (its serialNumber). */
export const CITIZEN_TOKEN_INFO: FilePath = "3F00/5015/5032";

/** "PINs (citizen cards)": references, lengths, VERIFY padded with 00 to 12 bytes. */
export const CITIZEN_PINS: readonly PinFacts[] = [
  { name: "PIN1", reference: 0x11, minLength: 4, maxLength: 12, paddedLength: 12 },
  { name: "PIN2", reference: 0x82, minLength: 6, maxLength: 12, paddedLength: 12 },
  { name: "PUK", reference: 0x83, minLength: 8, maxLength: 12, paddedLength: 12 },
];

/** PSO:HASH `00 2A 90 A0 <Lc> 90 <len> <hash>`: the bare hash, never a DigestInfo. */
export function psoHashApdu(digest: Uint8Array): Uint8Array {
  const data = new Uint8Array(2 + digest.length);
  data.set([0x90, digest.length]);
  data.set(digest, 2);
  return command(0x00, 0x2a, 0x90, 0xa0, data);
}

/** PSO:COMPUTE DIGITAL SIGNATURE `00 2A 9E 9A 00`: signs the hash loaded by PSO:HASH. */
export const PSO_CDS = command(0x00, 0x2a, 0x9e, 0x9a, undefined, 0);

/** A FINEID citizen card: the protocol; subclasses give the keys. */
export abstract class CitizenCard extends BaseCard {
  protected pins(): Promise<PinFacts[]> {
    return Promise.resolve([...CITIZEN_PINS]);
  }

  protected tokenInfoPath(): Promise<FilePath | undefined> {
    return Promise.resolve(CITIZEN_TOKEN_INFO);
  }

  /** VERIFY and the signing APDUs go to the PKCS#15 application. */
  protected async prepareSigning(_key: KeyFacts): Promise<void> {
    const sw = await this.files.selectByName(PKCS15_AID);
    if (sw !== SW.OK) throw new UnexpectedCardAnswerError("SELECT the PKCS#15 application", sw);
  }

  /** "Signing (citizen cards)": MSE:SET DST, PSO:HASH, PSO:CDS. */
  protected async signAfterVerify(
    key: KeyFacts,
    digest: Uint8Array,
    hash: HashName,
    scheme: SignatureScheme,
  ): Promise<Uint8Array> {
    await this.expectOk(mseSetDstApdu(algorithmByte(hash, scheme), key.keyReference), "MSE:SET DST");
    await this.expectOk(psoHashApdu(digest), "PSO:HASH");
    return await this.expectOk(PSO_CDS, "PSO:COMPUTE DIGITAL SIGNATURE");
  }
}
