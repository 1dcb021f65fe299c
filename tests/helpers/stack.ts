/**
 * The PC/SC test stack: a private `pcscd --foreground --debug --apdu` with vsmartcard's vpcd readers
 * (`Virtual PCD 00 00` on TCP 35963, `Virtual PCD 00 01` on 35964), and a tiny card to plug into them.
 *
 * Only inside the isolation wrapper (`tests/run.sh`, `tests/stack/isolate.sh`), which sets `KORTTI_TEST_STACK=1`
 * and gives the run its own `/run/pcscd` and loopback; elsewhere `stackTest` registers the test as ignored and says
 * why once, so that a pcscd the user runs is never disturbed.
 *
 * @example
 * ```ts
 * import { plugCard, stackTest, waitForCard } from "./stack.ts";
 * stackTest("a card shows up", async (stack) => {
 *   const card = await plugCard({ atr: new Uint8Array([0x3b, 0x00]) });
 *   await waitForCard("Virtual PCD 00 00", true);
 *   await card.close();
 *   stack.printLog();
 * });
 * ```
 * @module
 */

import { PcscContext } from "../../lib/pcsc/context.ts";
import { listReaders, type ReaderInfo } from "../../lib/pcsc/readers.ts";
import { connectToVpcd, type VpcdConnection } from "../../lib/virtual-card/vpcd.ts";

/** Whether this run may start pcscd (set by the isolation wrapper). */
export const STACK_AVAILABLE = Deno.env.get("KORTTI_TEST_STACK") === "1";

/** Why the stack tests are skipped, when they are. */
export const STACK_SKIP_REASON =
  "PC/SC stack tests skipped: KORTTI_TEST_STACK is not set (run them through tests/run.sh, as root, so that a " +
  "private pcscd can be started without touching the system's)";

/** The two vpcd readers and their ports. */
export const VPCD_READERS = [
  { name: "Virtual PCD 00 00", port: 35963 },
  { name: "Virtual PCD 00 01", port: 35964 },
] as const;

const SOCKET = "/run/pcscd/pcscd.comm";
const encoder = new TextEncoder();

function say(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A running test stack. */
export interface Stack {
  /** The pcscd debug log so far. */
  log(): string;
  /** Prints the last lines of the pcscd log to stderr. */
  printLog(lines?: number): void;
  /** Stops pcscd (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
  /** Kills pcscd (`SIGKILL` by default, as a crash) and starts it again, waiting for the readers. */
  restart(signal?: Deno.Signal): Promise<void>;
  /** Kills pcscd without starting it again. */
  kill(signal?: Deno.Signal): Promise<void>;
  /** Starts pcscd again after `kill`, waiting for the readers. */
  start(): Promise<void>;
}

async function serviceAnswers(): Promise<boolean> {
  const context = new PcscContext();
  try {
    await context.readerNames();
    return true;
  } catch {
    return false;
  } finally {
    context.release();
  }
}

async function waitForReaders(timeoutMs: number, child: Deno.ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline && !exited) {
    const context = new PcscContext();
    try {
      const names = await context.readerNames();
      if (VPCD_READERS.every((r) => names.includes(r.name))) return;
    } catch {
      // not up yet
    } finally {
      context.release();
    }
    await sleep(50);
  }
  throw new Error(exited ? "pcscd exited during start-up" : "pcscd did not list both vpcd readers in time");
}

/**
 * Starts pcscd and waits until PC/SC lists both vpcd readers. Throws when the stack is not available here or a
 * pcscd already answers in this namespace.
 */
export async function startStack(options: { timeoutMs?: number } = {}): Promise<Stack> {
  if (!STACK_AVAILABLE) throw new Error(STACK_SKIP_REASON);
  if (await serviceAnswers()) {
    throw new Error(`a pcscd already answers on ${SOCKET} in this namespace; stop it or run through tests/run.sh`);
  }
  const logPath = await Deno.makeTempFile({ prefix: "kortti-pcscd-", suffix: ".log" });
  let child: Deno.ChildProcess | undefined;
  const launch = async () => {
    child = new Deno.Command("bash", {
      args: ["-c", 'exec pcscd --foreground --debug --apdu >>"$0" 2>&1', logPath],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitForReaders(options.timeoutMs ?? 10_000, child);
    } catch (error) {
      stack.printLog();
      throw error;
    }
  };
  const kill = async (signal: Deno.Signal = "SIGTERM") => {
    const running = child;
    child = undefined;
    if (!running) return;
    try {
      running.kill(signal);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        running.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 3000);
    await running.status;
    clearTimeout(timer);
  };
  const stack: Stack = {
    log: () => {
      try {
        return Deno.readTextFileSync(logPath);
      } catch {
        return "";
      }
    },
    printLog: (lines = 80) => {
      const tail = stack.log().split("\n").slice(-lines).join("\n");
      say(`---- pcscd log (last ${lines} lines of ${logPath}) ----\n${tail}\n---- end of pcscd log ----\n`);
    },
    stop: async () => {
      await kill("SIGTERM");
      await Deno.remove(logPath).catch(() => undefined);
    },
    kill: (signal: Deno.Signal = "SIGKILL") => kill(signal),
    start: launch,
    restart: async (signal: Deno.Signal = "SIGKILL") => {
      await kill(signal);
      await launch();
    },
  };
  await launch();
  return stack;
}

/**
 * A `Deno.test` that runs with a fresh stack (stopped afterwards, its log printed when the test fails), or is
 * ignored with a message when the stack is not available.
 */
export function stackTest(name: string, fn: (stack: Stack) => Promise<void>): void {
  if (!STACK_AVAILABLE) warnSkipped();
  Deno.test({
    name,
    ignore: !STACK_AVAILABLE,
    // pcscd, FFI calls on worker threads and the vpcd sockets outlive single ops by design.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const stack = await startStack();
      try {
        await fn(stack);
      } catch (error) {
        stack.printLog();
        throw error;
      } finally {
        await stack.stop();
      }
    },
  });
}

let warned = false;
function warnSkipped(): void {
  if (warned) return;
  warned = true;
  say(`${STACK_SKIP_REASON}\n`);
}

/** Options of `plugCard`. */
export interface PlugCardOptions {
  /** vpcd port: 35963 (`Virtual PCD 00 00`, default) or 35964 (`Virtual PCD 00 01`). */
  port?: number;
  /** The ATR the card gives. */
  atr: Uint8Array;
  /** Answers a command APDU (default: `90 00` to everything). Throwing pulls the card. */
  respond?: (apdu: Uint8Array) => Uint8Array | Promise<Uint8Array>;
  /** Set TCP_QUICKACK on the card's socket (default true; false to measure the delayed-ACK cost). */
  quickAck?: boolean;
}

/** A test card in a vpcd reader. */
export interface PluggedCard extends VpcdConnection {
  /** The reader it sits in. */
  reader: string;
  /** Command APDUs it received, in order. */
  received: Uint8Array[];
}

/**
 * Plugs a card with a given ATR into a vpcd reader (retrying while vpcd is not listening yet).
 *
 * @example
 * ```ts
 * import { plugCard } from "./stack.ts";
 * const card = await plugCard({ atr: new Uint8Array([0x3b, 0x00]), respond: () => new Uint8Array([0x6d, 0x00]) });
 * await card.close();
 * ```
 */
export async function plugCard(options: PlugCardOptions): Promise<PluggedCard> {
  const port = options.port ?? 35963;
  const received: Uint8Array[] = [];
  const respond = options.respond ?? (() => new Uint8Array([0x90, 0x00]));
  const card = {
    atr: () => options.atr,
    transmit: async (apdu: Uint8Array) => {
      received.push(apdu);
      return await respond(apdu);
    },
  };
  for (let attempt = 0;; attempt++) {
    try {
      const connection = await connectToVpcd(card, { host: "127.0.0.1", port, quickAck: options.quickAck });
      const reader = VPCD_READERS.find((r) => r.port === port)?.name ?? `port ${port}`;
      return { ...connection, reader, received };
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused) || attempt >= 40) throw error;
      await sleep(50);
    }
  }
}

/** Waits until `reader` has (or has not) a card, as PC/SC sees it; returns that reader's state. */
export async function waitForCard(reader: string, present: boolean, timeoutMs = 5000): Promise<ReaderInfo> {
  const deadline = Date.now() + timeoutMs;
  let last: ReaderInfo | undefined;
  while (Date.now() < deadline) {
    last = (await listReaders().catch(() => [])).find((r) => r.name === reader);
    if (last && last.cardPresent === present) return last;
    await sleep(50);
  }
  throw new Error(`${reader} did not ${present ? "get" : "lose"} its card in ${timeoutMs} ms (last: ${last?.state})`);
}
