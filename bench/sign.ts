/**
 * Benchmarks of `kortti sign` (issue 5): hashing throughput of `kortti sign --format raw` on a 1 GiB file against
 * `openssl dgst -sha256` in the same run (target ratio >= 0.9), peak RSS for 100 MB and 2 GB inputs (target: flat,
 * under 150 MB), and the APDUs one signature takes on each virtual card profile (target: the doc's minimum, 4 on
 * citizen cards after the application is selected). Inputs are sparse files, so the disk plays no part.
 *
 * @example
 * ```sh
 * deno run --allow-all bench/sign.ts      # prints the figures, one line each
 * ```
 * @module
 */

import { type BenchResult, median } from "./result.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Options of `run`. */
export interface SignBenchOptions {
  /** Throughput input size (default 1 GiB). */
  size?: number;
  /** Runs of each tool (default 3; the median counts). */
  runs?: number;
}

/**
 * Runs the measurements and returns their figures (`bench/main.ts` prints them in its table).
 *
 * @example
 * ```ts
 * import { run } from "./sign.ts";
 * for (const figure of await run({ runs: 1 })) console.log(figure.name, figure.value, figure.unit);
 * ```
 */
export async function run(options: SignBenchOptions = {}): Promise<BenchResult[]> {
  const dir = Deno.makeTempDirSync({ prefix: "kortti-bench-sign-" });
  try {
    return [
      ...await throughput(dir, options.size ?? 1024 ** 3, options.runs ?? 3),
      await peakRss(dir, 100 * 1000 * 1000, "100 MB"),
      await peakRss(dir, 2 * 1000 * 1000 * 1000, "2 GB"),
      ...await apdusPerSignature(),
    ];
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

function sparse(path: string, size: number): string {
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  file.truncateSync(size);
  file.close();
  return path;
}

async function timed(command: string[], env: Record<string, string> = {}): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(command[0], { args: command.slice(1), env, stdout: "null", stderr: "piped" })
    .output();
  const seconds = (performance.now() - start) / 1000;
  if (!out.success) throw new Error(`${command.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return seconds;
}

const PIN_ENV = { BENCH_PIN: "123456" };

function korttiRaw(input: string, out: string): string[] {
  return [
    `${ROOT}/kortti`,
    "sign",
    "--virtual-card=v3",
    "--format",
    "raw",
    "--hash",
    "sha256",
    "--force",
    "--in",
    input,
    "--out",
    out,
    "--pin-env",
    "BENCH_PIN",
  ];
}

async function throughput(dir: string, size: number, runs: number): Promise<BenchResult[]> {
  const big = sparse(`${dir}/big`, size);
  const empty = sparse(`${dir}/empty`, 0);
  const kortti: number[] = [];
  const korttiEmpty: number[] = [];
  const openssl: number[] = [];
  const opensslEmpty: number[] = [];
  await timed(korttiRaw(empty, `${dir}/warm.sig`), PIN_ENV); // warm the module cache
  for (let i = 0; i < runs; i++) {
    openssl.push(await timed(["openssl", "dgst", "-sha256", big]));
    kortti.push(await timed(korttiRaw(big, `${dir}/big.sig`), PIN_ENV));
    opensslEmpty.push(await timed(["openssl", "dgst", "-sha256", empty]));
    korttiEmpty.push(await timed(korttiRaw(empty, `${dir}/empty.sig`), PIN_ENV));
  }
  const k = median(kortti);
  const o = median(openssl);
  // Hashing alone: the fixed cost (start-up, card, signature) measured on an empty input is taken out.
  const kHash = Math.max(1e-3, k - median(korttiEmpty));
  const oHash = Math.max(1e-3, o - median(opensslEmpty));
  const mib = size / 1024 ** 2;
  const gib = (size / 1024 ** 3).toFixed(2);
  return [
    {
      name: `sign --format raw hashing throughput vs openssl dgst -sha256 (${gib} GiB)`,
      value: oHash / kHash,
      unit: "x",
      note: `target >= 0.9; kortti ${(mib / kHash).toFixed(0)} MiB/s, openssl ${(mib / oHash).toFixed(0)} MiB/s ` +
        `(fixed costs on an empty input taken out; median of ${runs})`,
    },
    {
      name: `sign --format raw end to end vs openssl dgst -sha256 (${gib} GiB)`,
      value: o / k,
      unit: "x",
      note: `kortti ${k.toFixed(2)} s (start-up, card and signature included), openssl ${o.toFixed(2)} s`,
    },
  ];
}

async function peakRss(dir: string, size: number, label: string): Promise<BenchResult> {
  const input = sparse(`${dir}/rss-input`, size);
  const out = await new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "maxrss=%M",
      `${ROOT}/kortti`,
      "sign",
      "--virtual-card",
      "--force",
      "--in",
      input,
      "--out",
      `${dir}/rss.p7s`,
      "--pin-env",
      "BENCH_PIN",
    ],
    env: PIN_ENV,
    stdout: "null",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`peak RSS run failed: ${stderr}`);
  const mib = Number(stderr.match(/maxrss=(\d+)/)?.[1]) / 1024;
  return {
    name: `sign (cms-detached) peak RSS, ${label} input`,
    value: mib,
    unit: "MiB",
    note: "target: flat, under 150 MB",
  };
}

async function apdusPerSignature(): Promise<BenchResult[]> {
  const { openCard } = await import("../lib/open.ts");
  const { signWithCard } = await import("../lib/sign/mod.ts");
  const lines: BenchResult[] = [];
  for (const profile of ["v3", "v4", "org"] as const) {
    const trace: string[] = [];
    const card = await openCard({ virtualCard: profile, trace: (line) => trace.push(line) });
    try {
      const atOpen = card.apduCount;
      await card.certificates(["sign"]);
      const beforeSign = card.apduCount;
      const first = trace.length;
      const pin = () => Promise.resolve(new TextEncoder().encode("123456"));
      await signWithCard({ card, key: "sign", format: "raw", input: { bytes: new Uint8Array(1) }, pin });
      const perSignature = card.apduCount - beforeSign;
      const names = trace.slice(first).filter((l) => l.startsWith(">")).map((l) => l.split(/\s{2,}/)[1] ?? "?");
      const beforeSecond = card.apduCount;
      await signWithCard({ card, key: "sign", format: "raw", input: { bytes: new Uint8Array(1) }, pin });
      const second = card.apduCount - beforeSecond;
      const selected = names.filter((n) => !/^SELECT/.test(n)).length;
      lines.push({
        name: `APDUs per signature, ${profile}`,
        value: perSignature,
        unit: "APDUs",
        note: `${names.join(", ")}; ${selected} after the application is selected (one of them the tries check ` +
          `of the last-try guard); a second signature ${second}; reading the certificate ${beforeSign - atOpen}, ` +
          `opening the card ${atOpen}`,
      });
    } finally {
      await card.close();
    }
  }
  return lines;
}

if (import.meta.main) {
  const encoder = new TextEncoder();
  for (const figure of await run()) {
    Deno.stdout.writeSync(
      encoder.encode(`${figure.name}: ${figure.value.toFixed(2)} ${figure.unit} (${figure.note})\n`),
    );
  }
}
