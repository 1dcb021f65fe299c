/**
 * `kortti pin-status [--reader R] [--json]`: tries left and blocked state of PIN1, PIN2 and PUK (or the organisation
 * card's PINs), read without spending a try (GET DATA, or the empty VERIFY).
 *
 * JSON: `{"reader":"…","card":{"family":"fineid-v4","model":"…"},
 * "pins":[{"name":"PIN1","reference":"11","triesLeft":5,"blocked":false},…]}`.
 * @module
 */

import { Command } from "commander";
import { addCardOptions, type CardOptions, traceSink, virtualProfile } from "./card-options.ts";
import { printJson, table, writeOut } from "./output.ts";
import type { PinName, PinState } from "../lib/card/card.ts";

interface PinStatusOptions extends CardOptions {
  json?: boolean;
}

/** The `pin-status` command. */
export function pinStatusCommand(): Command {
  return addCardOptions(
    new Command("pin-status")
      .description("tries left of the card's PINs, without spending one")
      .option("--json", "print JSON")
      .addHelpText("after", "\nExample:\n  kortti pin-status --virtual-card --json"),
  ).action(pinStatus);
}

async function pinStatus(options: PinStatusOptions): Promise<void> {
  const { openCard } = await import("../lib/open.ts");
  const { NoMatchingKeyError } = await import("../lib/errors.ts");
  const card = await openCard({
    reader: options.reader,
    virtualCard: virtualProfile(options),
    trace: traceSink(options),
  });
  const pins: PinState[] = [];
  try {
    for (const name of ["PIN1", "PIN2", "PUK"] as PinName[]) {
      try {
        pins.push(await card.pinStatus(name));
      } catch (error) {
        if (!(error instanceof NoMatchingKeyError)) throw error; // a card without a PUK object
      }
    }
  } finally {
    await card.close();
  }
  if (options.json) {
    printJson({ reader: card.readerName, card: { family: card.family, model: card.model }, pins });
    return;
  }
  writeOut(
    `reader: ${card.readerName}\ncard:   ${card.family} (${card.model})\n\n` +
      table([
        ["PIN", "REFERENCE", "TRIES LEFT", "STATE"],
        ...pins.map((p) => [
          p.name,
          p.reference,
          p.triesLeft === null ? "?" : String(p.triesLeft),
          p.blocked ? "BLOCKED" : p.triesLeft === 1 ? "last try" : "ok",
        ]),
      ]),
  );
}
