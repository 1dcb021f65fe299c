/**
 * The options every card command shares (cli.md): `--reader`, `--virtual-card[=v3|v4|org]`, `--trace`.
 * @module
 */

import { Command, Option } from "commander";
import { writeErr } from "./output.ts";

/** Parsed values of the shared card options. */
export interface CardOptions {
  reader?: string;
  virtualCard?: string | boolean;
  trace?: boolean;
}

/** Adds the shared card options to a command. */
export function addCardOptions(command: Command): Command {
  return command
    .option("--reader <reader>", "reader by index (from list-readers) or by part of its name")
    .addOption(
      new Option("--virtual-card [profile]", "use the built-in virtual card (no hardware): v3, v4 or org (default v4)")
        .choices(["v3", "v4", "org"]),
    )
    .option("--trace", "print every APDU to stderr (PINs replaced by **)");
}

/** The `--virtual-card` profile asked for, or undefined for PC/SC. */
export function virtualProfile(options: CardOptions): "v3" | "v4" | "org" | undefined {
  if (options.virtualCard === undefined || options.virtualCard === false) return undefined;
  if (options.virtualCard === true) return "v4";
  return options.virtualCard as "v3" | "v4" | "org";
}

/** The trace sink for `--trace`: stderr, one line per APDU half. */
export function traceSink(options: CardOptions): ((line: string) => void) | undefined {
  return options.trace ? (line: string) => writeErr(`kortti: trace: ${line}\n`) : undefined;
}
