/**
 * The one interface the rest of kortti sees of a card, whatever its family (FinEID v3, v4, organisation IAS-ECC,
 * generic PKCS#15). Card classes implement it over an `ApduChannel`; `sign` and `serve` use only this.
 *
 * @example
 * ```ts
 * import type { Card } from "./card.ts";
 * async function describe(card: Card) {
 *   for (const cert of await card.certificates()) console.log(cert.key, cert.der.length);
 * }
 * ```
 * @module
 */

/** Which key: authentication (PIN1) or qualified signature (PIN2). */
export type KeyName = "auth" | "sign";

/** Card families of docs/cli.md. */
export type CardFamily = "fineid-v3" | "fineid-v4" | "dvv-org" | "unknown";

/** PIN names as users know them. */
export type PinName = "PIN1" | "PIN2" | "PUK";

/** Hash algorithms kortti signs with. */
export type HashName = "sha256" | "sha384" | "sha512";

/** Signature schemes a card key can make. */
export type SignatureScheme = "ecdsa" | "pkcs1" | "pss";

/** A PIN's state, read without spending a try. */
export interface PinState {
  /** `PIN1`, `PIN2` or `PUK`. */
  name: PinName;
  /** The card's reference for it, hex (`"11"`, `"82"`, `"03"`...). */
  reference: string;
  /** Tries left, or null when the card does not tell. */
  triesLeft: number | null;
  /** Whether the PIN is blocked. */
  blocked: boolean;
}

/** A certificate on the card and the key it belongs to. */
export interface CardCertificate {
  /** `auth` or `sign`. */
  key: KeyName;
  /** The private key's reference on the card, hex (`"01"`, `"02"`, `"03"`, `"82"`). */
  keyReference: string;
  /** The PIN that unlocks the key. */
  pin: PinName;
  /** That PIN's reference, hex. */
  pinReference: string;
  /** The certificate, DER. */
  der: Uint8Array;
  /** Where it was read, e.g. `3F00/5016/4332`. */
  path: string;
  /** Its PKCS#15 label, when the card has one. */
  label?: string;
}

/** What is asked of the PIN provider: enough for a prompt that names the holder and the PIN. */
export interface PinRequest {
  /** Which PIN. */
  pin: PinName;
  /** Which key it unlocks. */
  key: KeyName;
  /** Tries left before this one, when known. */
  triesLeft: number | null;
  /** The card holder's name from the certificate (CN), when known. */
  holder?: string;
}

/**
 * Gives the PIN, as ASCII digit bytes, just before the VERIFY that uses it. The card zeroes the buffer right after
 * the VERIFY: a PIN never outlives it. Throws `PinCancelledError` when the person cancels.
 */
export type PinProvider = (request: PinRequest) => Promise<Uint8Array>;

/** A signing request to the card. */
export interface CardSignRequest {
  /** Which key. */
  key: KeyName;
  /** The hash of the data (bare, never a DigestInfo). */
  digest: Uint8Array;
  /** The hash algorithm the digest was made with. */
  hash: HashName;
  /** For RSA keys: PKCS#1 v1.5 or PSS. Ignored for EC keys. */
  scheme?: SignatureScheme;
  /** Asked for the PIN right before VERIFY. */
  pin: PinProvider;
  /** Spend the last PIN try if it is the only one left. */
  allowLastTry?: boolean;
}

/** One DVV card in a reader (or the in-process virtual card). */
export interface Card {
  /** Card family. */
  readonly family: CardFamily;
  /** Card model, e.g. `Thales MultiApp 5.0`, or `unknown`. */
  readonly model: string;
  /** Reader name. */
  readonly readerName: string;
  /** Answer to reset, hex. */
  readonly atr: string;
  /** APDUs sent so far. */
  readonly apduCount: number;
  /** The card's serial (document) number from EF.TokenInfo, when readable. */
  serialNumber(): Promise<string | undefined>;
  /** The certificates, read once per card object. */
  certificates(keys?: KeyName[]): Promise<CardCertificate[]>;
  /** A PIN's state, without spending a try. */
  pinStatus(pin: PinName): Promise<PinState>;
  /**
   * Verifies the PIN (never retried), then signs the digest. Returns the card's signature as it comes: ECDSA raw
   * r‖s, RSA the signature bytes.
   */
  sign(request: CardSignRequest): Promise<Uint8Array>;
  /** Releases the card. */
  close(): Promise<void>;
}
