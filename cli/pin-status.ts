/**
 * `kortti pin-status`: tries left of the card's PINs, without spending one
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `pin-status` command. */
export function pinStatusCommand(): Command {
  return new Command("pin-status")
    .description("tries left of the card's PINs, without spending one")
    .addHelpText("after", "\nExample:\n  kortti pin-status --virtual-card")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'pin-status' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
