/**
 * `kortti post-url`: the erasmartcardpost:// URL handler
 * @module
 */

import { Command } from "commander";
import { KorttiError } from "../lib/errors.ts";

/** The `post-url` command. */
export function postUrlCommand(): Command {
  return new Command("post-url")
    .description("the erasmartcardpost:// URL handler")
    .addHelpText("after", "\nExample:\n  kortti post-url 'erasmartcardpost://https://example.fi/Port?eraScPort={PORT}'")
    .action(() => {
      throw new KorttiError("NOT_IMPLEMENTED", 70, "'post-url' is not implemented yet", {
        hint: "see the project's issues",
      });
    });
}
