/**
 * `kortti list-readers [--json] [--watch]`: PC/SC readers, card presence, ATR and card family (docs/cli.md).
 * @module
 */

import { Command } from "commander";
import { NoReaderError } from "../lib/errors.ts";
import { printJson, table, writeOut } from "./output.ts";

/** The `list-readers` command. */
export function listReadersCommand(): Command {
  return new Command("list-readers")
    .description("PC/SC readers, card presence, ATR and card family")
    .option("--json", "print JSON (docs/cli.md)")
    .option("--watch", "after the list, print insertions and removals as they happen, until Ctrl-C")
    .addHelpText("after", "\nExamples:\n  kortti list-readers --json\n  kortti list-readers --watch --json")
    .action(async (options: { json?: boolean; watch?: boolean }) => {
      const { listReaders } = await import("../lib/pcsc/mod.ts");
      const { identifyAtr } = await import("../lib/card/identify.ts");
      const { toHex } = await import("../lib/apdu.ts");
      const cardOf = (atr: Uint8Array | null) => atr ? identifyAtr(atr) : null;
      const readers = await listReaders();
      if (!options.watch && readers.length === 0) throw new NoReaderError();
      const rows = readers.map((r) => ({
        index: r.index,
        name: r.name,
        cardPresent: r.cardPresent,
        atr: r.atr ? toHex(r.atr) : null,
        card: cardOf(r.atr),
      }));
      if (options.json && !options.watch) printJson({ readers: rows });
      if (!options.json) {
        writeOut(
          rows.length === 0 ? "no readers (waiting for one)\n" : table([
            ["#", "READER", "CARD", "FAMILY", "MODEL", "ATR"],
            ...rows.map((r) => [
              String(r.index),
              r.name,
              r.cardPresent ? "yes" : "no",
              r.card?.family ?? "",
              r.card?.model ?? "",
              r.atr ?? "",
            ]),
          ]),
        );
      }
      if (options.watch) await watch(options.json === true, cardOf, toHex);
    });
}

async function watch(
  json: boolean,
  cardOf: (atr: Uint8Array | null) => { family: string; model: string } | null,
  toHex: (bytes: Uint8Array) => string,
): Promise<void> {
  const { watchReaders } = await import("../lib/pcsc/mod.ts");
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", onSignal);
  try {
    for await (const change of watchReaders(stop.signal)) {
      const atr = change.event === "inserted" ? toHex(change.atr) : undefined;
      const card = change.event === "inserted" ? cardOf(change.atr) : undefined;
      if (json) {
        printJson({ event: change.event, reader: change.reader, ...(atr ? { atr, card } : {}) });
      } else {
        const what = card ? `  ${card.family} (${card.model})  ${atr}` : "";
        writeOut(`${change.event}  ${change.reader}${what}\n`);
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    if (Deno.build.os !== "windows") Deno.removeSignalListener("SIGTERM", onSignal);
  }
}
