/**
 * `kortti verify`: check a signature, its certificate chain and revocation
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `verify` command. */
export function verifyCommand(): Command {
  return new Command("verify")
    .description("check a signature, its certificate chain and revocation")
    .addHelpText("after", "\nExample:\n  kortti verify --in contract.pdf --sig contract.p7s")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'verify' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
