/**
 * FINEID v4 (Thales MultiApp 5.0, 2023–): its facts from docs/fineid-cards.md over the citizen protocol.
 *
 * @example
 * ```ts
 * import { FineIdV4Card } from "./fineid-v4.ts";
 * import type { CardContext } from "./base.ts";
 * declare const context: CardContext;
 * const [auth] = await new FineIdV4Card(context).certificates(["auth"]);
 * ```
 * @module
 */

import type { KeyFacts } from "./base.ts";
import type { CardFamily } from "./card.ts";
import { CitizenCard } from "./citizen.ts";

/** "Signing (citizen cards)", v4 rows: both keys EC P-384, ECDSA; certificates 4331 and 5016/4332. */
export const FINEID_V4_KEYS: readonly KeyFacts[] = [
  { key: "auth", keyReference: 0x01, pin: "PIN1", certificatePath: "3F00/4331", schemes: ["ecdsa"] },
  { key: "sign", keyReference: 0x02, pin: "PIN2", certificatePath: "3F00/5016/4332", schemes: ["ecdsa"] },
];

/** A FINEID v4 card. */
export class FineIdV4Card extends CitizenCard {
  readonly family: CardFamily = "fineid-v4";

  protected keys(): Promise<KeyFacts[]> {
    return Promise.resolve([...FINEID_V4_KEYS]);
  }
}
