/**
 * FINEID v3 (Gemalto MultiApp v3.0 and v4.2, 2017–2023): v4 with what differs, from docs/fineid-cards.md: the
 * authentication key is RSA-2048 signing with RSASSA-PSS (alg 45) or PKCS#1 v1.5 (42), the signature key is EC
 * P-256 with reference 03, and its certificate is at 5016/4335.
 *
 * @example
 * ```ts
 * import { FineIdV3Card } from "./fineid-v3.ts";
 * import type { CardContext } from "./base.ts";
 * declare const context: CardContext;
 * const certificates = await new FineIdV3Card(context).certificates();
 * ```
 * @module
 */

import type { KeyFacts } from "./base.ts";
import type { CardFamily } from "./card.ts";
import { FineIdV4Card } from "./fineid-v4.ts";

/** "Signing (citizen cards)", v3 rows. */
export const FINEID_V3_KEYS: readonly KeyFacts[] = [
  { key: "auth", keyReference: 0x01, pin: "PIN1", certificatePath: "3F00/4331", schemes: ["pss", "pkcs1"] },
  { key: "sign", keyReference: 0x03, pin: "PIN2", certificatePath: "3F00/5016/4335", schemes: ["ecdsa"] },
];

/** A FINEID v3 card. */
export class FineIdV3Card extends FineIdV4Card {
  override readonly family: CardFamily = "fineid-v3";

  protected override keys(): Promise<KeyFacts[]> {
    return Promise.resolve([...FINEID_V3_KEYS]);
  }
}
