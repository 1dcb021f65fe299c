/**
 * What a benchmark reports. Each `bench/<area>.ts` exports `async function run(): Promise<BenchResult[]>`;
 * `bench/main.ts` finds them, runs them and prints one table. Benchmarks measure and report; they never assert.
 *
 * @example
 * ```ts
 * import type { BenchResult } from "./result.ts";
 * export async function run(): Promise<BenchResult[]> {
 *   const started = performance.now();
 *   await Promise.resolve();
 *   return [{ name: "nothing", value: performance.now() - started, unit: "ms" }];
 * }
 * ```
 * @module
 */

/** One measured figure. */
export interface BenchResult {
  /** What was measured, e.g. `5-byte APDU round trip (median of 1000)`. */
  name: string;
  /** The figure. */
  value: number;
  /** Its unit: `ms`, `x` (a ratio), `MB/s`... */
  unit: string;
  /** Context worth printing next to it (reference figures, conditions), or why it was skipped. */
  note?: string;
}

/** The median of some numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The p-th percentile (0-100) of some numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
