/**
 * Printing for the command line: JSON and human output on stdout, and errors on stderr as docs/cli.md defines them:
 * one line `kortti: <what happened>: <what to do>`, or under `--json` the object
 * `{"error":{"code","message","exitCode",...details}}`. Unexpected exceptions are exit 70 without a stack trace
 * unless `KORTTI_DEBUG=1`.
 * @module
 */

import { ExitCode, KorttiError } from "../lib/errors.ts";

const encoder = new TextEncoder();

/** Writes text to stdout as is. */
export function writeOut(text: string): void {
  writeAll(Deno.stdout, encoder.encode(text));
}

/** Writes text to stderr as is. */
export function writeErr(text: string): void {
  writeAll(Deno.stderr, encoder.encode(text));
}

function writeAll(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += target.writeSync(bytes.subarray(at));
}

/** Prints a value as one JSON document on stdout. */
export function printJson(value: unknown): void {
  writeOut(JSON.stringify(value) + "\n");
}

/** Whether `KORTTI_DEBUG=1` asks for stack traces. */
export function debugEnabled(): boolean {
  try {
    return Deno.env.get("KORTTI_DEBUG") === "1";
  } catch {
    return false;
  }
}

/** The error as the user sees it, and its exit code. */
export interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
  exitCode: number;
  details: Record<string, unknown>;
}

/** Maps any thrown value to what the user is told. */
export function reportOf(error: unknown): ErrorReport {
  if (error instanceof KorttiError) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint,
      exitCode: error.exitCode,
      details: error.details,
    };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    code: "INTERNAL",
    message: `internal error (${message})`,
    hint: "this is a bug: please report it with the output of KORTTI_DEBUG=1",
    exitCode: ExitCode.internal,
    details: {},
  };
}

/** Prints the error per cli.md and returns the exit code. */
export function printError(error: unknown, json: boolean): number {
  const report = reportOf(error);
  if (json) {
    writeErr(
      JSON.stringify({
        error: { code: report.code, message: report.message, exitCode: report.exitCode, ...report.details },
      }) + "\n",
    );
  } else {
    writeErr(`kortti: ${report.message}${report.hint ? `: ${report.hint}` : ""}\n`);
  }
  if (debugEnabled() && error instanceof Error && error.stack) writeErr(error.stack + "\n");
  if (debugEnabled() && error instanceof Error && error.cause instanceof Error && error.cause.stack) {
    writeErr("caused by: " + error.cause.stack + "\n");
  }
  return report.exitCode;
}

/**
 * Pads rows of cells into aligned columns for human output.
 *
 * @example
 * ```ts
 * import { table } from "./output.ts";
 * table([["KEY", "SUBJECT"], ["auth", "MEIKÄLÄINEN MATTI"]]);
 * ```
 */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, [...cell].length));
  return rows.map((row) =>
    row.map((cell, i) => i === row.length - 1 ? cell : cell + " ".repeat(widths[i] - [...cell].length)).join("  ")
      .trimEnd()
  ).join("\n") + "\n";
}

/** Thrown by a command that has already printed what it had to say and wants a given exit code (e.g. verify: 1). */
export class ExitRequest extends Error {
  /** The exit code to end with. */
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.exitCode = exitCode;
  }
}
