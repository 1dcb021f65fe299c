/**
 * Start-up time of `./kortti --version` as a ratio against `openssl version` (median of 20 runs each), the figure
 * docs/performance-notes.md asks to keep small: every module imported at start-up costs every command.
 *
 * @example
 * ```ts
 * import { run } from "./startup.ts";
 * console.log(await run());
 * ```
 * @module
 */

import { type BenchResult, median } from "./result.ts";

const RUNS = 20;
const ROOT = new URL("../", import.meta.url).pathname;

async function timeCommand(command: string, args: string[]): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const started = performance.now();
    const { success } = await new Deno.Command(command, { args, cwd: ROOT, stdout: "null", stderr: "null" })
      .output();
    const elapsed = performance.now() - started;
    if (!success) throw new Error(`${command} ${args.join(" ")} failed`);
    if (i >= 2) times.push(elapsed); // the first two warm the file cache
  }
  return times;
}

/** Measures both and reports the ratio. */
export async function run(): Promise<BenchResult[]> {
  const kortti = median(await timeCommand(`${ROOT}kortti`, ["--version"]));
  const openssl = median(await timeCommand("openssl", ["version"]));
  return [
    { name: `./kortti --version start-up (median of ${RUNS})`, value: kortti, unit: "ms" },
    { name: `openssl version start-up (median of ${RUNS})`, value: openssl, unit: "ms" },
    { name: "kortti --version / openssl version", value: kortti / openssl, unit: "x", note: "lower is better" },
  ];
}
