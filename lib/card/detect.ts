/**
 * Which card class speaks to a card: identified by its ATR (identify.ts, the table of docs/fineid-cards.md) and
 * confirmed by the card's own answers where the ATR is not certain: the IAS-ECC probe (an empty VERIFY on `11`
 * answers `6A 88` on organisation cards) tells organisation cards apart; anything else unknown is read through its
 * PKCS#15 files. Citizen ATRs are certain and cost no probe: their first PIN-status answer confirms them.
 *
 * @example
 * ```ts
 * import { cardForChannel } from "./detect.ts";
 * import { ApduChannel } from "../apdu.ts";
 * import type { Transport } from "../transport.ts";
 * async function open(transport: Transport) {
 *   const card = await cardForChannel(new ApduChannel(transport));
 *   console.log(card.family, card.model);
 * }
 * ```
 * @module
 */

import type { ApduChannel } from "../apdu.ts";
import type { Card } from "./card.ts";
import { FineIdV3Card } from "./fineid-v3.ts";
import { FineIdV4Card } from "./fineid-v4.ts";
import { IasEccCard, ORG_PROBE, ORG_PROBE_ANSWER } from "./ias-ecc.ts";
import { identifyAtr } from "./identify.ts";
import { Pkcs15Card } from "./pkcs15.ts";

/**
 * The card object for the card behind `channel`. Sends no APDU for citizen ATRs, one (the IAS-ECC probe, which
 * spends no PIN try) otherwise.
 */
export async function cardForChannel(channel: ApduChannel): Promise<Card> {
  const { family, model } = identifyAtr(channel.transport.atr);
  if (family === "fineid-v4") return new FineIdV4Card({ channel, model });
  if (family === "fineid-v3") return new FineIdV3Card({ channel, model });
  const { sw } = await channel.send(ORG_PROBE);
  if (sw === ORG_PROBE_ANSWER) {
    return new IasEccCard({ channel, model: family === "dvv-org" ? model : "unknown IAS-ECC card" });
  }
  return new Pkcs15Card({ channel, model: "unknown" });
}
