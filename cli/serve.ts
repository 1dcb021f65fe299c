/**
 * `kortti serve`: the local HTTPS signing service for browsers (SCS API and erasmartcard)
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `serve` command. */
export function serveCommand(): Command {
  return new Command("serve")
    .description("the local HTTPS signing service for browsers (SCS API and erasmartcard)")
    .addHelpText("after", "\nExample:\n  kortti serve --allow-origin https://example.fi")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'serve' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
