/**
 * `kortti list-readers`: PC/SC readers, card presence, ATR and card family
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `list-readers` command. */
export function listReadersCommand(): Command {
  return new Command("list-readers")
    .description("PC/SC readers, card presence, ATR and card family")
    .addHelpText("after", "\nExample:\n  kortti list-readers --json")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'list-readers' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
