/**
 * The facts of each virtual card profile, from docs/fineid-cards.md: ATR, PIN references and format, keys with their
 * references, algorithm bytes and certificate files, and the PKCS#15 labels. The card model (`card.ts`) reads only
 * these; the certificates and TEST keys come from `profiles.generated.ts` (made by fixtures/make.ts).
 *
 * @example
 * ```ts
 * import { PROFILES } from "./profiles.ts";
 * console.log(PROFILES.v4.keys.map((k) => k.reference)); // [1, 2]
 * ```
 * @module
 */

import { fromHex } from "../apdu.ts";

/** The three profiles of the virtual card. */
export type VirtualProfile = "v3" | "v4" | "org";

/** A PIN's name as users know it. */
export type VirtualPinName = "PIN1" | "PIN2" | "PUK";

/** How a profile's VERIFY carries the PIN. */
export interface PinFormat {
  /** Citizen cards pad the ASCII digits with 00 to 12 bytes; organisation cards send them unpadded. */
  paddedLength?: number;
  /** Minimum number of digits. */
  minLength: number;
  /** Maximum number of digits. */
  maxLength: number;
}

/** One PIN of a profile. */
export interface PinSpec {
  name: VirtualPinName;
  /** VERIFY P2. */
  reference: number;
  /** Value of a new card. */
  defaultValue: string;
  format: PinFormat;
  /** PKCS#15 label. */
  label: string;
}

/** Key algorithms of the profiles. */
export type KeyAlgorithm = "EC P-256" | "EC P-384" | "RSA-2048";

/** One key of a profile with its certificate file. */
export interface KeySpec {
  /** `auth` or `sign`. */
  key: "auth" | "sign";
  /** MSE:SET DST `84 01 <reference>`. */
  reference: number;
  algorithm: KeyAlgorithm;
  /** The PIN that unlocks it. */
  pin: VirtualPinName;
  /** Certificate file: path from the MF, e.g. `["5016", "4332"]`. */
  certificatePath: string[];
  /** The DF the key reference is local to (path from the MF), for keys that are not global (org key 82). */
  localTo?: string[];
  /** The PKCS#15 labels of the key and of its certificate. */
  keyLabel: string;
  certificateLabel: string;
  /** Index in `profiles.generated.ts`, e.g. `v4-sign`. */
  embedded: string;
}

/** Everything a profile is. */
export interface ProfileSpec {
  profile: VirtualProfile;
  /** Answer to reset. */
  atr: Uint8Array;
  /** TokenInfo serialNumber (ASCII digits: the document number) and label. */
  serialNumber: string;
  tokenLabel: string;
  manufacturer: string;
  pins: PinSpec[];
  keys: KeySpec[];
  /**
   * Whether the hash goes inline in PSO:COMPUTE DIGITAL SIGNATURE (organisation IAS-ECC: no PSO:HASH) instead of
   * being loaded by PSO:HASH (citizen cards).
   */
  inlineDigest: boolean;
  /** DF 5016 selectable by name (`E.SIGN` on organisation cards). */
  signatureDfName?: Uint8Array;
}

/** PKCS#15 application AID `A0 00 00 00 63 50 4B 43 53 2D 31 35` ("PKCS-15"). */
export const PKCS15_AID = fromHex("A000000063504B43532D3135");
/** DF.ESIGN's name on organisation cards, "E.SIGN". */
export const ESIGN_NAME = new TextEncoder().encode("E.SIGN");

const CITIZEN_PIN_FORMAT = (minLength: number): PinFormat => ({ paddedLength: 12, minLength, maxLength: 12 });

const CITIZEN_PINS: PinSpec[] = [
  { name: "PIN1", reference: 0x11, defaultValue: "1234", format: CITIZEN_PIN_FORMAT(4), label: "perustunnusluku" },
  {
    name: "PIN2",
    reference: 0x82,
    defaultValue: "123456",
    format: CITIZEN_PIN_FORMAT(6),
    label: "allekirjoitustunnusluku",
  },
  { name: "PUK", reference: 0x83, defaultValue: "12345678", format: CITIZEN_PIN_FORMAT(8), label: "PUK-koodi" },
];

const AUTH_LABELS = { keyLabel: "todentamis- ja salausavain", certificateLabel: "todentamis- ja salausvarmenne" };
const SIGN_LABELS = { keyLabel: "allekirjoitusavain", certificateLabel: "allekirjoitusvarmenne" };

/** The profiles by name. */
export const PROFILES: Record<VirtualProfile, ProfileSpec> = {
  v4: {
    profile: "v4",
    atr: fromHex("3B7F96000080 31B865B085 0500111224 60829000"),
    serialNumber: "999000401",
    tokenLabel: "HENKILOKORTTI TEST",
    manufacturer: "Thales (kortti virtual card)",
    pins: CITIZEN_PINS,
    keys: [
      {
        key: "auth",
        reference: 0x01,
        algorithm: "EC P-384",
        pin: "PIN1",
        certificatePath: ["4331"],
        ...AUTH_LABELS,
        embedded: "v4-auth",
      },
      {
        key: "sign",
        reference: 0x02,
        algorithm: "EC P-384",
        pin: "PIN2",
        certificatePath: ["5016", "4332"],
        ...SIGN_LABELS,
        embedded: "v4-sign",
      },
    ],
    inlineDigest: false,
  },
  v3: {
    profile: "v3",
    atr: fromHex("3B7F96000080 31B865B085 04021B1200F6 829000"),
    serialNumber: "999000301",
    tokenLabel: "HENKILOKORTTI TEST",
    manufacturer: "Gemalto (kortti virtual card)",
    pins: CITIZEN_PINS,
    keys: [
      {
        key: "auth",
        reference: 0x01,
        algorithm: "RSA-2048",
        pin: "PIN1",
        certificatePath: ["4331"],
        ...AUTH_LABELS,
        embedded: "v3-auth",
      },
      {
        key: "sign",
        reference: 0x03,
        algorithm: "EC P-256",
        pin: "PIN2",
        certificatePath: ["5016", "4335"],
        ...SIGN_LABELS,
        embedded: "v3-sign",
      },
    ],
    inlineDigest: false,
  },
  org: {
    profile: "org",
    atr: fromHex("3BDD96008031FE450031B8640429ECC17394018083 49"),
    serialNumber: "999000901",
    tokenLabel: "ORGANISAATIOKORTTI TEST",
    manufacturer: "Idemia (kortti virtual card)",
    pins: [
      {
        name: "PIN1",
        reference: 0x03,
        defaultValue: "1234",
        format: { minLength: 4, maxLength: 8 },
        label: "Authentication PIN",
      },
      {
        name: "PIN2",
        reference: 0x04,
        defaultValue: "123456",
        format: { minLength: 4, maxLength: 8 },
        label: "Signature PIN",
      },
      { name: "PUK", reference: 0x12, defaultValue: "12345678", format: { minLength: 8, maxLength: 8 }, label: "PUK" },
    ],
    keys: [
      {
        key: "auth",
        reference: 0x01,
        algorithm: "RSA-2048",
        pin: "PIN1",
        certificatePath: ["4331"],
        keyLabel: "Authentication key",
        certificateLabel: "Authentication certificate",
        embedded: "org-auth",
      },
      {
        key: "sign",
        reference: 0x82,
        algorithm: "RSA-2048",
        pin: "PIN2",
        certificatePath: ["5016", "4332"],
        localTo: ["5016"],
        keyLabel: "Signature key",
        certificateLabel: "Signature certificate",
        embedded: "org-sign",
      },
    ],
    inlineDigest: true,
    signatureDfName: ESIGN_NAME,
  },
};
