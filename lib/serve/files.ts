/**
 * Data-directory helpers of `serve`: where it lives, and atomic writes (temporary file in the same directory, then
 * rename) so that a Ctrl-C never leaves a half-written key or certificate behind.
 *
 * @example
 * ```ts
 * import { defaultDataDir, writeDataFile } from "./files.ts";
 * await writeFileAtomic(`${defaultDataDir()}/example.txt`, new TextEncoder().encode("hi"), 0o600);
 * ```
 * @module
 */

import { writeFileAtomic } from "../fs.ts";

/**
 * The data directory: `$XDG_DATA_HOME/kortti`, else `~/.local/share/kortti` (`%LOCALAPPDATA%\kortti` on Windows).
 *
 * @example
 * ```ts
 * import { defaultDataDir } from "./files.ts";
 * console.log(defaultDataDir());
 * ```
 */
export function defaultDataDir(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): string {
  const xdg = env("XDG_DATA_HOME");
  if (xdg) return `${xdg}/kortti`;
  if (Deno.build.os === "windows" && env("LOCALAPPDATA")) return `${env("LOCALAPPDATA")}\\kortti`;
  const home = env("HOME") ?? env("USERPROFILE") ?? ".";
  return `${home}/.local/share/kortti`;
}

/**
 * Writes a data-directory file atomically with exactly the given mode (keys 0600), creating the directory (0700)
 * when needed; an existing file is replaced. The write itself is lib/fs.ts's `writeFileAtomic`.
 *
 * @example
 * ```ts
 * import { writeDataFile } from "./files.ts";
 * await writeDataFile("/tmp/k/key.pem", "-----BEGIN PRIVATE KEY-----...", 0o600);
 * ```
 */
export async function writeDataFile(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const dir = path.replace(/[\\/][^\\/]*$/, "") || ".";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  writeFileAtomic(path, bytes, { force: true, mode });
}

/**
 * Reads a text file, or undefined when it does not exist.
 *
 * @example
 * ```ts
 * import { readTextIfExists } from "./files.ts";
 * console.log(await readTextIfExists("/nonexistent") === undefined);
 * ```
 */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
