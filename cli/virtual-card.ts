/**
 * `kortti virtual-card`: plug the built-in virtual card into vpcd so every PC/SC program (pcscd, OpenSC, browsers'
 * middleware, kortti itself) sees an inserted DVV card. Ctrl-C removes it (exit 0).
 * @module
 */

import { Command, InvalidArgumentError, Option } from "commander";
import { UsageError, VpcdUnavailableError } from "../lib/errors.ts";
import { writeErr } from "./output.ts";

/** Parsed options of `virtual-card`. */
interface VirtualCardCliOptions {
  profile: "v3" | "v4" | "org";
  vpcd: string;
  state?: string;
  failAfter?: string;
  delay?: string;
  blocked?: ("auth" | "sign")[];
  trace?: boolean;
}

function nonNegativeInteger(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} wants a whole number, not '${value}'`);
  return Number(value);
}

function hostAndPort(value: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : NaN;
  if (!match || !match[1] || port < 1 || port > 65535) {
    throw new UsageError(`--vpcd wants HOST:PORT (e.g. 127.0.0.1:35963), not '${value}'`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, "$1"), port };
}

/** The `virtual-card` command. */
export function virtualCardCommand(): Command {
  return new Command("virtual-card")
    .description("plug the built-in virtual card into vpcd so every PC/SC program sees it")
    .addOption(new Option("--profile <profile>", "card profile").choices(["v3", "v4", "org"]).default("v4"))
    .option(
      "--vpcd <host:port>",
      "vpcd reader to plug into (35963 = Virtual PCD 00 00, 35964 = 00 01)",
      "127.0.0.1:35963",
    )
    .option("--state <file>", "keep PIN changes and try counters in this file (written atomically)")
    .option("--fail-after <n>", "pull the card after N APDUs")
    .option("--delay <ms>", "wait this long before every answer (a slow card)")
    .addOption(
      new Option("--blocked <pin>", "start with this PIN blocked: auth or sign (repeatable)").argParser(
        (value: string, previous: string[] | undefined) => {
          if (value !== "auth" && value !== "sign") {
            throw new InvalidArgumentError(`'${value}' is not one of auth, sign`);
          }
          return [...(previous ?? []), value];
        },
      ),
    )
    .option("--trace", "print every APDU pair with its meaning to stderr (PINs replaced by **)")
    .addHelpText(
      "after",
      "\nPINs: authentication 1234, signature 123456, PUK 12345678 (TEST card, test PKI).\n" +
        "\nExample:\n  kortti virtual-card --profile v4 --vpcd 127.0.0.1:35963",
    )
    .action(async (options: VirtualCardCliOptions) => {
      const address = hostAndPort(options.vpcd);
      const failAfter = nonNegativeInteger(options.failAfter, "--fail-after");
      const delayMs = nonNegativeInteger(options.delay, "--delay");
      const { VirtualCard } = await import("../lib/virtual-card/mod.ts");
      const { connectToVpcd } = await import("../lib/virtual-card/vpcd.ts");
      const { describeCommand, redactedHex, toHex } = await import("../lib/apdu.ts");
      const card = await VirtualCard.create({
        profile: options.profile,
        statePath: options.state,
        failAfter,
        delayMs,
        blocked: options.blocked,
      });
      const trace = options.trace ? (line: string) => writeErr(`kortti: trace: ${line}\n`) : undefined;
      const bridge = {
        atr: () => card.atr(),
        transmit: async (apdu: Uint8Array) => {
          // Described before the card sees it: the card zeroes the command buffer it was given.
          const shown = trace ? `> ${redactedHex(apdu)}  ${describeCommand(apdu)}` : "";
          const started = performance.now();
          const response = await card.transmit(apdu);
          if (trace) {
            trace(shown);
            trace(`< ${toHex(response)}  (${(performance.now() - started).toFixed(1)} ms)`);
          }
          return response;
        },
        powerOn: () => card.powerOn(),
        powerOff: () => card.powerOff(),
        reset: () => card.reset(),
      };
      const connection = await connectToVpcd(bridge, address).catch((error) => {
        if (error instanceof Deno.errors.ConnectionRefused) {
          throw new VpcdUnavailableError(`${address.host}:${address.port}`);
        }
        throw error;
      });
      writeErr(
        `kortti: virtual ${options.profile} card inserted into vpcd at ${address.host}:${address.port}; ` +
          `Ctrl-C removes it\n`,
      );
      let stopping = false;
      const stopped = new Promise<void>((resolve) => {
        const stop = () => {
          stopping = true;
          resolve();
        };
        Deno.addSignalListener("SIGINT", stop);
        if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
      });
      connection.closed.then(() => {
        if (!stopping) {
          writeErr(
            card.removed
              ? `kortti: the virtual card was pulled after ${card.apduCount} APDUs (--fail-after); ` +
                "waiting for Ctrl-C\n"
              : "kortti: vpcd closed the connection (card removed); waiting for Ctrl-C\n",
          );
        }
      });
      await stopped;
      await connection.close();
      writeErr("kortti: virtual card removed\n");
    });
}
