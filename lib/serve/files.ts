/**
 * Data-directory helpers of `serve`: where it lives, and atomic writes (temporary file in the same directory, then
 * rename) so that a Ctrl-C never leaves a half-written key or certificate behind.
 *
 * @example
 * ```ts
 * import { defaultDataDir, writeFileAtomic } from "./files.ts";
 * await writeFileAtomic(`${defaultDataDir()}/example.txt`, new TextEncoder().encode("hi"), 0o600);
 * ```
 * @module
 */

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
 * Writes a file atomically with the given mode: the data goes to a temporary file next to it, which is then renamed.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./files.ts";
 * await writeFileAtomic("/tmp/k/key.pem", new TextEncoder().encode("..."), 0o600);
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o644): Promise<void> {
  const dir = path.replace(/[\\/][^\\/]*$/, "") || ".";
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${path}.tmp-${Deno.pid}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(16)}`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  try {
    await Deno.writeFile(temporary, bytes, { mode, createNew: true });
    if (Deno.build.os !== "windows") await Deno.chmod(temporary, mode);
    await Deno.rename(temporary, path);
  } catch (e) {
    await Deno.remove(temporary).catch(() => {});
    throw e;
  }
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
