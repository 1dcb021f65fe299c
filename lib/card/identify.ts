/**
 * The ATR (answer to reset) parsed per ISO/IEC 7816-3, and the DVV card it belongs to, identified by its historical
 * bytes against the table of docs/fineid-cards.md. Matching the historical bytes (not the whole ATR) makes the
 * ATRs that contactless readers synthesise from the same card (`3B 8F 80 01 ...`) match too.
 *
 * @example
 * ```ts
 * import { identifyAtr } from "./identify.ts";
 * import { fromHex } from "../apdu.ts";
 * identifyAtr(fromHex("3B7F96000080 31B865B085 0500111224 60829000"));
 * // { family: "fineid-v4", model: "Thales MultiApp 5.0" }
 * ```
 * @module
 */

import type { CardFamily } from "./card.ts";

/** One group of interface bytes (TAi, TBi, TCi, TDi), those present. */
export interface InterfaceBytes {
  /** TAi. */
  ta?: number;
  /** TBi. */
  tb?: number;
  /** TCi. */
  tc?: number;
  /** TDi: the next group's presence bits and a protocol. */
  td?: number;
}

/** An ATR taken apart. */
export interface ParsedAtr {
  /** Initial character: 0x3B (direct convention) or 0x3F (inverse). */
  ts: number;
  /** Format byte: Y1 in the high nibble, the number of historical bytes in the low one. */
  t0: number;
  /** Interface bytes, group i at index i-1. */
  interfaceBytes: InterfaceBytes[];
  /** Protocols announced by the TD bytes (T=0 when none). */
  protocols: number[];
  /** The historical bytes. */
  historical: Uint8Array;
  /** The check byte, present when a protocol other than T=0 is announced. */
  tck?: number;
  /** Whether TCK makes the XOR of T0..TCK zero (true when there is no TCK). */
  tckValid: boolean;
}

/**
 * Parses an ATR. Throws `RangeError` when it is not one (wrong TS, too short, trailing bytes).
 *
 * @example
 * ```ts
 * import { parseAtr } from "./identify.ts";
 * import { fromHex } from "../apdu.ts";
 * parseAtr(fromHex("3BDD96008031FE450031B8640429ECC1739401808349")).protocols; // [0, 1]
 * ```
 */
export function parseAtr(atr: Uint8Array): ParsedAtr {
  if (atr.length < 2) throw new RangeError("an ATR has at least TS and T0");
  const ts = atr[0];
  if (ts !== 0x3b && ts !== 0x3f) throw new RangeError(`TS ${ts.toString(16)} is neither 3B nor 3F`);
  const t0 = atr[1];
  const historicalCount = t0 & 0x0f;
  const interfaceBytes: InterfaceBytes[] = [];
  const protocols: number[] = [];
  let presence = t0 >> 4;
  let at = 2;
  const next = (): number => {
    if (at >= atr.length) throw new RangeError("the ATR ends inside its interface bytes");
    return atr[at++];
  };
  while (true) {
    const group: InterfaceBytes = {};
    if (presence & 0x1) group.ta = next();
    if (presence & 0x2) group.tb = next();
    if (presence & 0x4) group.tc = next();
    if (presence & 0x8) group.td = next();
    interfaceBytes.push(group);
    if (group.td === undefined) break;
    protocols.push(group.td & 0x0f);
    presence = group.td >> 4;
  }
  if (protocols.length === 0) protocols.push(0);
  if (at + historicalCount > atr.length) throw new RangeError("the ATR is shorter than its historical bytes");
  const historical = atr.slice(at, at + historicalCount);
  at += historicalCount;
  const needsTck = protocols.some((t) => t !== 0);
  let tck: number | undefined;
  if (needsTck) {
    if (at >= atr.length) throw new RangeError("the ATR lacks its TCK");
    tck = atr[at++];
  }
  if (at !== atr.length) throw new RangeError(`${atr.length - at} bytes after the end of the ATR`);
  let xor = 0;
  for (let i = 1; i < atr.length; i++) xor ^= atr[i];
  return { ts, t0, interfaceBytes, protocols, historical, tck, tckValid: !needsTck || xor === 0 };
}

/** The family and model of a card. */
export interface CardIdentity {
  /** `fineid-v3`, `fineid-v4`, `dvv-org` or `unknown`. */
  family: CardFamily;
  /** The model, e.g. `Thales MultiApp 5.0`, or `unknown`. */
  model: string;
}

interface KnownCard extends CardIdentity {
  /** Historical bytes, hex; `..` is a byte that may be anything. */
  historical: string;
}

// docs/fineid-cards.md, by historical bytes. Exact models first; then family patterns where the card revision
// bytes (ATR bytes 12-13 = historical bytes 7-8) are ignored, as the doc prescribes for the Thales family.
const KNOWN_CARDS: KnownCard[] = [
  { historical: "8031B865B0850300EF1200F6829000", family: "fineid-v3", model: "Gemalto MultiApp v3.0" },
  { historical: "8031B865B08504021B1200F6829000", family: "fineid-v3", model: "Gemalto MultiApp v4.2" },
  { historical: "8031B865B0850500111224 60829000", family: "fineid-v4", model: "Thales MultiApp 5.0" },
  { historical: "8031B865B0850510241224 60829000", family: "fineid-v4", model: "Thales MultiApp 5.0 (later revision)" },
  { historical: "0031B8640429ECC17394018083", family: "dvv-org", model: "Idemia Cosmo X" },
  { historical: "0031B8640429ECC17394018082", family: "dvv-org", model: "Idemia ID.me (Ideal Citiz 2.17i)" },
  { historical: "0031B8640429ECC173940180829000", family: "dvv-org", model: "Oberthur Cosmo v7 IAS-ECC" },
  { historical: "8031B865B08503....1200F6829000", family: "fineid-v3", model: "Gemalto MultiApp (FINEID v3)" },
  { historical: "8031B865B08504....1200F6829000", family: "fineid-v3", model: "Gemalto MultiApp (FINEID v3)" },
  { historical: "8031B865B08505....122460829000", family: "fineid-v4", model: "Thales MultiApp (FINEID v4)" },
];

function matches(pattern: string, historical: Uint8Array): boolean {
  const clean = pattern.replace(/\s/g, "");
  if (clean.length !== historical.length * 2) return false;
  for (let i = 0; i < historical.length; i++) {
    const expected = clean.slice(2 * i, 2 * i + 2);
    if (expected !== ".." && parseInt(expected, 16) !== historical[i]) return false;
  }
  return true;
}

/**
 * The family and model of the card with this ATR; `{family: "unknown", model: "unknown"}` for any other card or
 * for bytes that are not an ATR.
 *
 * @example
 * ```ts
 * import { identifyAtr } from "./identify.ts";
 * import { fromHex } from "../apdu.ts";
 * identifyAtr(fromHex("3B8F8001 8031B865B085 0300EF1200F6829000 0B")).family; // "fineid-v3" (contactless)
 * ```
 */
export function identifyAtr(atr: Uint8Array): CardIdentity {
  let historical: Uint8Array;
  try {
    historical = parseAtr(atr).historical;
  } catch {
    return { family: "unknown", model: "unknown" };
  }
  const known = KNOWN_CARDS.find((card) => matches(card.historical, historical));
  return known ? { family: known.family, model: known.model } : { family: "unknown", model: "unknown" };
}
