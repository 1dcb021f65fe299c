/**
 * The fallback for cards whose ATR kortti does not know (docs/fineid-cards.md: "An unknown ATR is not an error"):
 * select the PKCS#15 application, read EF.ODF, then the PrKDF, CDF and AODF it points to, and take keys, certificates
 * and PINs from there. Signing uses the ISO sequence of the citizen cards (MSE:SET DST, PSO:HASH, PSO:CDS); PIN
 * state comes from the empty VERIFY, which every ISO 7816 card answers.
 *
 * @example
 * ```ts
 * import { Pkcs15Card } from "./pkcs15.ts";
 * import type { CardContext } from "./base.ts";
 * declare const context: CardContext;
 * for (const c of await new Pkcs15Card(context).certificates()) console.log(c.key, c.label, c.path);
 * ```
 * @module
 */

import { SW } from "../apdu.ts";
import { UnsupportedCardError } from "../errors.ts";
import type { KeyFacts } from "./base.ts";
import type { CardFamily, KeyName, PinName } from "./card.ts";
import { CitizenCard, PKCS15_AID } from "./citizen.ts";
import type { FilePath } from "./files.ts";
import type { PinFacts } from "./pins.ts";
import {
  parseAodf,
  parseCdf,
  parseOdf,
  parsePrkdf,
  type Pkcs15Certificate,
  type Pkcs15Pin,
  type Pkcs15PrivateKey,
} from "./pkcs15-objects.ts";

/** "Application and files": EF.ODF and EF.TokenInfo of the PKCS#15 application. */
export const EF_ODF: FilePath = "./5031";
export const EF_TOKEN_INFO: FilePath = "./5032";

/** Keys and PINs as read from the PKCS#15 directory files. */
export interface Pkcs15Directory {
  /** Keys with a certificate, named auth/sign. */
  keys: KeyFacts[];
  /** PINs named PIN1/PIN2/PUK. */
  pins: PinFacts[];
}

/**
 * Names the keys and PINs of a PKCS#15 directory the way kortti speaks: the key with nonRepudiation usage is `sign`
 * (its PIN `PIN2`), the first other signing key `auth` (`PIN1`), the unblocking PIN `PUK`.
 */
export function nameDirectory(
  keys: Pkcs15PrivateKey[],
  certificates: Pkcs15Certificate[],
  pins: Pkcs15Pin[],
): Pkcs15Directory {
  const out: Pkcs15Directory = { keys: [], pins: [] };
  const pinNames = new Map<string, PinName>();
  const signKey = keys.find((k) => k.usage.includes("nonRepudiation"));
  const authKey = keys.find((k) => k !== signKey && (k.usage.includes("sign") || k.usage.includes("signRecover")));
  const chosen: [KeyName, Pkcs15PrivateKey | undefined, PinName][] = [
    ["auth", authKey, "PIN1"],
    ["sign", signKey, "PIN2"],
  ];
  for (const [name, key, pinName] of chosen) {
    const certificate = key && certificates.find((c) => c.id === key.id);
    const pin = key && pins.find((p) => p.authId === key.authId);
    if (!key || !certificate || !pin || key.keyReference === undefined) continue;
    if (!pinNames.has(pin.authId)) pinNames.set(pin.authId, pinName);
    const facts: KeyFacts = {
      key: name,
      keyReference: key.keyReference,
      pin: pinNames.get(pin.authId)!,
      certificatePath: certificate.path,
      schemes: key.type === "ec" ? ["ecdsa"] : ["pkcs1", "pss"],
    };
    const label = certificate.label ?? key.label;
    if (label) facts.label = label;
    out.keys.push(facts);
  }
  const puk = pins.find((p) => p.unblocking);
  if (puk) pinNames.set(puk.authId, "PUK");
  for (const pin of pins) {
    const name = pinNames.get(pin.authId);
    if (!name) continue;
    out.pins.push({
      name,
      reference: pin.reference,
      minLength: pin.minLength,
      maxLength: pin.maxLength,
      ...(pin.needsPadding ? { paddedLength: pin.storedLength, padByte: pin.padByte } : {}),
    });
  }
  return out;
}

/** A card read through its PKCS#15 structures only. */
export class Pkcs15Card extends CitizenCard {
  readonly family: CardFamily = "unknown";
  #directory: Promise<Pkcs15Directory> | undefined;

  protected override pinStatusMethod: "get-data" | "verify" = "verify";

  /** The directory, read once per card object. */
  protected directory(): Promise<Pkcs15Directory> {
    this.#directory ??= this.#readDirectory();
    return this.#directory;
  }

  async #readDirectory(): Promise<Pkcs15Directory> {
    const sw = await this.files.selectByName(PKCS15_AID);
    if (sw !== SW.OK) throw new UnsupportedCardError(this.atr, "the card has no PKCS#15 application kortti can read");
    const odfContent = await this.files.read(EF_ODF);
    if (!odfContent) throw new UnsupportedCardError(this.atr, "the card's PKCS#15 application has no EF.ODF");
    const odf = parseOdf(odfContent);
    const readAll = async <T>(paths: FilePath[], parse: (content: Uint8Array) => T[]): Promise<T[]> => {
      const out: T[] = [];
      for (const path of paths) {
        const content = await this.files.read(path);
        if (content) out.push(...parse(content));
      }
      return out;
    };
    const keys = await readAll(odf.privateKeys, parsePrkdf);
    const certificates = await readAll(odf.certificates, parseCdf);
    const pins = await readAll(odf.authObjects, parseAodf);
    return nameDirectory(keys, certificates, pins);
  }

  protected override async keys(): Promise<KeyFacts[]> {
    return (await this.directory()).keys;
  }

  protected override async pins(): Promise<PinFacts[]> {
    return (await this.directory()).pins;
  }

  protected override async tokenInfoPath(): Promise<FilePath | undefined> {
    if (!this.files.application) {
      // Relative paths need the application selected once; the directory files are not needed for the serial.
      const sw = await this.files.selectByName(PKCS15_AID);
      if (sw !== SW.OK) return undefined;
    }
    return EF_TOKEN_INFO;
  }
}
