/**
 * Benchmark of `kortti list-certs` against OpenSC's `pkcs15-tool --list-certificates` on the same card: the v4
 * virtual card plugged into a private pcscd through vpcd (issue 4: ratio kortti time / OpenSC time, median of 20
 * runs each in one run of the benchmark, target <= 1.0). The runs alternate so that both tools meet the same load.
 *
 * It runs twice: on the virtual card as it is (about 0.6 ms an APDU through vpcd, so start-up time decides), and
 * with `--delay 3` on the card, the few milliseconds an APDU of a real contact card takes
 * (docs/performance-notes.md), where the number of APDUs decides (kortti sends 16, OpenSC 0.23 about 80).
 *
 * Needs the isolated test stack (`make bench` runs it through tests/stack/isolate.sh).
 *
 * @example
 * ```sh
 * tests/stack/isolate.sh deno run --allow-all bench/card.ts     # one line per card speed
 * tests/stack/isolate.sh deno run --allow-all bench/main.ts card  # the same as rows of `make bench`
 * ```
 * @module
 */

import { type BenchResult, median } from "./result.ts";
import { startStack, waitForCard } from "../tests/helpers/stack.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const READER = "Virtual PCD 00 00";

/** One benchmark's outcome. */
export interface CardBenchResult {
  name: string;
  /** Median wall-clock seconds of `kortti list-certs`. */
  korttiSeconds: number;
  /** Median wall-clock seconds of `pkcs15-tool --list-certificates`. */
  openscSeconds: number;
  /** korttiSeconds / openscSeconds: at most 1 means kortti is as fast or faster. */
  ratio: number;
  target: number;
  /** Whether the ratio meets the target. */
  ok: boolean;
  /** One line for the report. */
  line: string;
}

/** Options of `benchCard`. */
export interface CardBenchOptions {
  /** Runs of each tool (default 20; the median counts). */
  runs?: number;
  /** Milliseconds the virtual card waits before each answer (default 0). */
  delayMs?: number;
}

async function timed(command: string, args: string[], check: (stdout: string) => boolean): Promise<number> {
  const started = performance.now();
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { OPENSC_CONF: `${ROOT}/tests/stack/opensc.conf` },
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const stdout = new TextDecoder().decode(output.stdout);
  if (!output.success || !check(stdout)) {
    throw new Error(`${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}${stdout}`);
  }
  return seconds;
}

/**
 * Runs the benchmark on a fresh private stack and returns its figures.
 *
 * @example
 * ```ts
 * import { benchCard } from "./card.ts";
 * console.log((await benchCard({ runs: 20 })).line);
 * ```
 */
export async function benchCard(options: CardBenchOptions = {}): Promise<CardBenchResult> {
  const runs = options.runs ?? 20;
  const delayMs = options.delayMs ?? 0;
  const stack = await startStack();
  const card = new Deno.Command(`${ROOT}/kortti`, {
    args: ["virtual-card", "--profile", "v4", "--vpcd", "127.0.0.1:35963", "--delay", String(delayMs)],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForCard(READER, true, 10_000);
    const kortti = () =>
      timed(`${ROOT}/kortti`, ["list-certs"], (out) => (out.match(/PIN\d: 5 tries left/g) ?? []).length === 2);
    const opensc = () =>
      timed("pkcs15-tool", ["--list-certificates"], (out) => (out.match(/X\.509 Certificate/g) ?? []).length === 2);
    await kortti();
    await opensc();
    const korttiTimes: number[] = [];
    const openscTimes: number[] = [];
    for (let i = 0; i < runs; i++) {
      korttiTimes.push(await kortti());
      openscTimes.push(await opensc());
    }
    const korttiSeconds = median(korttiTimes);
    const openscSeconds = median(openscTimes);
    const ratio = korttiSeconds / openscSeconds;
    const target = 1.0;
    const name = `list-certs vs pkcs15-tool --list-certificates (v4 virtual card via pcscd+vpcd, ${
      delayMs ? `${delayMs} ms a card answer` : "no card delay"
    })`;
    return {
      name,
      korttiSeconds,
      openscSeconds,
      ratio,
      target,
      ok: ratio <= target,
      line: `${name}: kortti ${(korttiSeconds * 1000).toFixed(1)} ms, OpenSC ${
        (openscSeconds * 1000).toFixed(1)
      } ms, median of ${runs} each; ratio kortti/OpenSC ${ratio.toFixed(2)} (target <= ${target.toFixed(1)}) ${
        ratio <= target ? "ok" : "MISSED"
      }`,
    };
  } finally {
    try {
      card.kill("SIGTERM");
    } catch {
      // already gone
    }
    await card.status;
    await stack.stop();
  }
}

/**
 * For `make bench` (bench/main.ts): both variants, the virtual card as it is and with a contact card's answer
 * time, as rows of kortti's and OpenSC's median times and their ratio.
 *
 * @example
 * ```ts
 * import { run } from "./card.ts";
 * for (const row of await run()) console.log(row.name, row.value, row.unit);
 * ```
 */
export async function run(runs = 20): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const delayMs of [0, 3]) {
    const result = await benchCard({ runs, delayMs });
    const card = delayMs ? `v4 card answering in ${delayMs} ms` : "v4 card, no delay";
    rows.push(
      { name: `kortti list-certs, ${card} (median of ${runs})`, value: result.korttiSeconds * 1000, unit: "ms" },
      {
        name: `pkcs15-tool --list-certificates, ${card} (median of ${runs})`,
        value: result.openscSeconds * 1000,
        unit: "ms",
      },
      {
        name: `list-certs / pkcs15-tool, ${card}`,
        value: result.ratio,
        unit: "x",
        note: `target <= ${result.target.toFixed(1)}: ${result.ok ? "met" : "MISSED"}`,
      },
    );
  }
  return rows;
}

if (import.meta.main) {
  for (const delayMs of [0, 3]) {
    Deno.stdout.writeSync(new TextEncoder().encode((await benchCard({ delayMs })).line + "\n"));
  }
}
