/**
 * `make bench`: runs every `bench/<area>.ts` that exports `run(): Promise<BenchResult[]>` (see result.ts) and
 * prints one table. Run it inside the isolation wrapper (the Makefile does) so that the PC/SC benchmarks can start
 * a private pcscd. Never asserts: a failing area is reported and the others still run.
 *
 * Usage: `deno run --allow-all bench/main.ts [AREA...]` (e.g. `pcsc startup`).
 *
 * @example
 * ```ts
 * import { runBenchmarks } from "./main.ts";
 * const rows = await runBenchmarks(["startup"]);
 * console.log(rows.length);
 * ```
 * @module
 */

import type { BenchResult } from "./result.ts";

/** A result with the area it came from. */
export interface BenchRow extends BenchResult {
  /** The bench file's name without `.ts`. */
  area: string;
}

const HERE = new URL(".", import.meta.url);
const NOT_AREAS = new Set(["main.ts", "result.ts"]);

/** The areas in bench/, sorted. */
export function benchAreas(): string[] {
  return [...Deno.readDirSync(HERE)]
    .filter((entry) => entry.isFile && entry.name.endsWith(".ts") && !NOT_AREAS.has(entry.name))
    .map((entry) => entry.name.slice(0, -3))
    .sort();
}

/** Runs the given areas (all by default) one after the other. */
export async function runBenchmarks(only: string[] = []): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const area of benchAreas()) {
    if (only.length > 0 && !only.includes(area)) continue;
    try {
      const module = await import(new URL(`${area}.ts`, HERE).href);
      if (typeof module.run !== "function") continue;
      const results: BenchResult[] = await module.run();
      rows.push(...results.map((result) => ({ area, ...result })));
    } catch (error) {
      rows.push({ area, name: "(failed)", value: NaN, unit: "", note: String(error) });
    }
  }
  return rows;
}

function format(value: number): string {
  if (Number.isNaN(value)) return "-";
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(value === Math.round(value) ? 0 : 2);
}

/** The rows as an aligned text table. */
export function formatTable(rows: BenchRow[]): string {
  const cells = [
    ["AREA", "BENCHMARK", "VALUE", "UNIT", "NOTE"],
    ...rows.map((r) => [r.area, r.name, format(r.value), r.unit, r.note ?? ""]),
  ];
  const widths = cells[0].map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()).join("\n") + "\n";
}

if (import.meta.main) {
  const rows = await runBenchmarks(Deno.args);
  Deno.stdout.writeSync(new TextEncoder().encode(formatTable(rows)));
}
