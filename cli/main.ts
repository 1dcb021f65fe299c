/**
 * The command table of kortti. Each command lives in its own file and imports its heavy parts lazily inside its
 * action, so that `kortti --version` and `--help` stay fast.
 * @module
 */

import { Command, CommanderError } from "commander";
import { VERSION } from "../lib/version.ts";
import { ExitRequest, printError } from "./output.ts";
import { UsageError } from "../lib/errors.ts";
import { listReadersCommand } from "./list-readers.ts";
import { listCertsCommand } from "./list-certs.ts";
import { pinStatusCommand } from "./pin-status.ts";
import { signCommand } from "./sign.ts";
import { verifyCommand } from "./verify.ts";
import { serveCommand } from "./serve.ts";
import { postUrlCommand } from "./post-url.ts";
import { virtualCardCommand } from "./virtual-card.ts";

/** Builds the whole command tree. */
export function buildProgram(): Command {
  const program = new Command("kortti")
    .description("Finnish DVV smart cards (FINEID, organisation cards) over PC/SC: read, sign, verify, serve.")
    .version(`kortti ${VERSION} (Deno ${Deno.version.deno})`, "-V, --version", "print the version and exit")
    .showHelpAfterError(false)
    .addHelpText(
      "after",
      "\nExample:\n  kortti list-certs --virtual-card\n\nExit codes: see README.md (0 ok, 1 invalid, 2 usage, 3 PC/SC, 4 card, 5 PIN, 6 no key, 7 I/O, 8 network, 70 bug).",
    );
  for (
    const command of [
      listReadersCommand(),
      listCertsCommand(),
      pinStatusCommand(),
      signCommand(),
      verifyCommand(),
      serveCommand(),
      postUrlCommand(),
      virtualCardCommand(),
    ]
  ) program.addCommand(command);
  return program;
}

function configureErrors(command: Command, json: boolean): void {
  command.exitOverride();
  command.configureOutput({
    outputError: (text) => {
      const message = text.replace(/^error:\s*/i, "").trim();
      printError(
        new UsageError(message, {
          hint: `see 'kortti ${command.name() === "kortti" ? "" : command.name() + " "}--help'`,
        }),
        json,
      );
    },
  });
  for (const sub of command.commands) configureErrors(sub, json);
}

/** Runs kortti with the given arguments and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const json = args.includes("--json");
  const program = buildProgram();
  configureErrors(program, json);
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" || error.code === "commander.version" ||
        error.code === "commander.help"
      ) return 0;
      if (error.code === "commander.executeSubCommandAsync") return 0;
      return 2;
    }
    if (error instanceof ExitRequest) return error.exitCode;
    return printError(error, json);
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
