/**
 * Benchmark of `kortti verify` on a 1 GiB detached CMS signature against `openssl cms -verify` on the same files in
 * the same run (issue 6: ratio openssl time / kortti time, target >= 1.0). The content is a sparse file, so the
 * disk plays no part: both read it from the page cache and the hash is what is measured.
 *
 * @example
 * ```sh
 * deno run --allow-all bench/verify.ts            # prints one line with both times and the ratio
 * deno run --allow-all bench/main.ts verify       # the same in make bench's table (run() below)
 * ```
 * @module
 */

import { type BenchResult, median } from "./result.ts";
import { cmsVerifyArgs, opensslSign } from "../tests/helpers/openssl.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PKI = `${ROOT}/fixtures/pki`;

/** One benchmark's outcome. */
export interface VerifyBenchResult {
  name: string;
  /** Median wall-clock seconds of `kortti verify`. */
  korttiSeconds: number;
  /** Median wall-clock seconds of `openssl cms -verify`. */
  opensslSeconds: number;
  /** opensslSeconds / korttiSeconds: above 1 means kortti is faster. */
  ratio: number;
  target: number;
  /** Whether the ratio meets the target. */
  ok: boolean;
  /** One line for the report. */
  line: string;
}

/** Options of `benchVerify`. */
export interface VerifyBenchOptions {
  /** Content size in bytes (default 1 GiB). */
  size?: number;
  /** Runs of each tool (default 5; the median counts). */
  runs?: number;
}

/**
 * Runs the benchmark and returns its figures.
 *
 * @example
 * ```ts
 * import { benchVerify } from "./verify.ts";
 * const result = await benchVerify({ runs: 5 });
 * console.log(result.line);
 * ```
 */
export async function benchVerify(options: VerifyBenchOptions = {}): Promise<VerifyBenchResult> {
  const size = options.size ?? 1024 ** 3;
  const runs = options.runs ?? 5;
  const dir = Deno.makeTempDirSync({ prefix: "kortti-bench-verify-" });
  try {
    const content = `${dir}/content.bin`;
    const sig = `${dir}/content.p7s`;
    const file = Deno.openSync(content, { write: true, create: true });
    file.truncateSync(size);
    file.close();
    await opensslSign("v4-sign", content, sig, { extra: ["-certfile", `${PKI}/citizen-ca.pem`] });
    const kortti = [`${ROOT}/kortti`, "verify", "--in", content, "--sig", sig, "--test-pki"];
    const openssl = ["openssl", ...cmsVerifyArgs(sig, `${PKI}/root-ca.pem`, { content })];
    // One warm-up each (page cache, Deno's code cache), then alternate so that drift hits both alike.
    await timed(kortti);
    await timed(openssl);
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(await timed(kortti));
      theirs.push(await timed(openssl));
    }
    const korttiSeconds = median(ours);
    const opensslSeconds = median(theirs);
    const ratio = opensslSeconds / korttiSeconds;
    const name = `${formatSize(size)} detached CMS (ECDSA P-384, SHA-256)`;
    return {
      name,
      korttiSeconds,
      opensslSeconds,
      ratio,
      target: 1,
      ok: ratio >= 1,
      line:
        `verify ${name}: kortti ${korttiSeconds.toFixed(2)} s, openssl cms -verify ${opensslSeconds.toFixed(2)} s, ` +
        `ratio ${ratio.toFixed(2)} (target >= 1.0${ratio >= 1 ? ", met" : ", NOT met"})`,
    };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

async function exec(command: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(command, { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(`${command} failed: ${new TextDecoder().decode(out.stderr)}`);
}

/** Wall-clock seconds of one run; it must succeed (exit 0), or the figure would mean nothing. */
async function timed([command, ...args]: string[]): Promise<number> {
  const started = performance.now();
  await exec(command, args);
  return (performance.now() - started) / 1000;
}

function formatSize(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(0)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/**
 * The figures for `make bench` (bench/main.ts): both medians and their ratio.
 *
 * @example
 * ```ts
 * import { run } from "./verify.ts";
 * for (const row of await run()) console.log(row.name, row.value, row.unit);
 * ```
 */
export async function run(): Promise<BenchResult[]> {
  const result = await benchVerify();
  const runs = "median of 5, same files, same run";
  return [
    { name: `kortti verify: ${result.name}`, value: result.korttiSeconds, unit: "s", note: runs },
    { name: `openssl cms -verify: ${result.name}`, value: result.opensslSeconds, unit: "s", note: runs },
    {
      name: "verify: openssl time / kortti time",
      value: result.ratio,
      unit: "x",
      note: `target >= 1.0 (${result.ok ? "met" : "NOT met"}); higher is better`,
    },
  ];
}

if (import.meta.main) {
  const result = await benchVerify();
  Deno.stdout.writeSync(new TextEncoder().encode(`${result.ok ? "ok  " : "MISS"} ${result.line}\n`));
}
