/**
 * `kortti virtual-card`: plug the built-in virtual card into vpcd so every PC/SC program sees it
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `virtual-card` command. */
export function virtualCardCommand(): Command {
  return new Command("virtual-card")
    .description("plug the built-in virtual card into vpcd so every PC/SC program sees it")
    .addHelpText("after", "\nExample:\n  kortti virtual-card --profile v4 --vpcd 127.0.0.1:35963")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'virtual-card' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
