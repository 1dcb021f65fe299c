/**
 * `kortti sign`: sign a file or a digest with the card
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `sign` command. */
export function signCommand(): Command {
  return new Command("sign")
    .description("sign a file or a digest with the card")
    .addHelpText("after", "\nExample:\n  kortti sign --in contract.pdf --out contract.p7s")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'sign' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
