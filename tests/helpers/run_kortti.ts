/**
 * Runs `./kortti` as a user would and captures what it printed.
 *
 * @example
 * ```ts
 * import { runKortti } from "./run_kortti.ts";
 * const { code, stdout } = await runKortti(["--version"]);
 * ```
 * @module
 */

/** Root of the checkout. */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** What a run of kortti gave. */
export interface KorttiRun {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Uint8Array;
}

/** Options of `runKortti`. */
export interface RunKorttiOptions {
  env?: Record<string, string>;
  stdin?: Uint8Array | string;
  cwd?: string;
  /** Kill it after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

/** Runs `./kortti ARGS` and returns exit code and output. */
export async function runKortti(args: string[], options: RunKorttiOptions = {}): Promise<KorttiRun> {
  const child = new Deno.Command(`${ROOT}/kortti`, {
    args,
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin);
    await writer.close();
  }
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  try {
    const output = await child.output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
      stdoutBytes: output.stdout,
    };
  } finally {
    clearTimeout(timer);
  }
}
