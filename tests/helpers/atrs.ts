/**
 * The ATRs of the table in docs/fineid-cards.md with the family and model kortti must give them, and the ATR a
 * contactless reader synthesises from a card's historical bytes.
 *
 * @example
 * ```ts
 * import { TABLE_ATRS } from "./atrs.ts";
 * for (const [hex, family] of TABLE_ATRS) console.log(hex, family);
 * ```
 * @module
 */

/** Every ATR of the table in docs/fineid-cards.md with the family and model it must give. */
export const TABLE_ATRS: ReadonlyArray<readonly [string, string, string]> = [
  ["3B7F96000080 31B865B085 0300EF1200F6 829000", "fineid-v3", "Gemalto MultiApp v3.0"],
  ["3B7F96000080 31B865B085 04021B1200F6 829000", "fineid-v3", "Gemalto MultiApp v4.2"],
  ["3B7F96000080 31B865B085 0500111224 60829000", "fineid-v4", "Thales MultiApp 5.0"],
  ["3B7F96000080 31B865B085 0510241224 60829000", "fineid-v4", "Thales MultiApp 5.0 (later revision)"],
  ["3BDD96008031FE450031B8640429ECC17394018083 49", "dvv-org", "Idemia Cosmo X"],
  ["3BDD96008031FE450031B8640429ECC17394018082 48", "dvv-org", "Idemia ID.me (Ideal Citiz 2.17i)"],
  ["3BDF96008031FE450031B8640429ECC173940180829000 DA", "dvv-org", "Oberthur Cosmo v7 IAS-ECC"],
];

/** The ATR a contactless reader synthesises (PC/SC part 3) from historical bytes: 3B 8n 80 01 hist TCK. */
export function contactlessAtr(historical: Uint8Array): Uint8Array {
  const atr = new Uint8Array(5 + historical.length);
  atr.set([0x3b, 0x80 | historical.length, 0x80, 0x01]);
  atr.set(historical, 4);
  let xor = 0;
  for (let i = 1; i < atr.length - 1; i++) xor ^= atr[i];
  atr[atr.length - 1] = xor;
  return atr;
}
