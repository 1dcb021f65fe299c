/**
 * `kortti list-certs`: the certificates on the card and their PIN state
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `list-certs` command. */
export function listCertsCommand(): Command {
  return new Command("list-certs")
    .description("the certificates on the card and their PIN state")
    .addHelpText("after", "\nExample:\n  kortti list-certs --virtual-card --json")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'list-certs' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
