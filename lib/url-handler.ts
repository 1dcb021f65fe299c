/**
 * Registers kortti as the desktop's handler of `erasmartcardpost:` URLs (freedesktop.org): an XDG desktop entry
 * with `MimeType=x-scheme-handler/erasmartcardpost;` in `$XDG_DATA_HOME/applications`, made the default with
 * `xdg-mime` when it is installed. Browsers on Linux open such URLs through that association.
 *
 * @example
 * ```ts
 * import { registerUrlHandler } from "./url-handler.ts";
 * const done = await registerUrlHandler({ exec: ["/usr/local/bin/kortti", "post-url"] });
 * console.log(done.desktopFile, done.madeDefault);
 * ```
 * @module
 */

import { IoError } from "./errors.ts";
import { writeFileAtomic } from "./fs.ts";

/** The URL scheme kortti handles. */
export const ERA_POST_SCHEME = "erasmartcardpost";

/** The MIME type desktops use for that scheme. */
export const ERA_POST_MIME_TYPE = `x-scheme-handler/${ERA_POST_SCHEME}`;

/** The desktop entry's file name (its desktop-file id). */
export const DESKTOP_FILE_NAME = "kortti-erasmartcardpost.desktop";

/** Where the desktop files and MIME defaults live; from the environment when not given. */
export interface XdgDirs {
  /** `$XDG_DATA_HOME`, default `~/.local/share`. */
  dataHome: string;
  /** `$XDG_CONFIG_HOME`, default `~/.config`. */
  configHome: string;
}

/**
 * The XDG base directories of the current user, from `XDG_DATA_HOME`, `XDG_CONFIG_HOME` and `HOME`.
 *
 * @example
 * ```ts
 * import { xdgDirs } from "./url-handler.ts";
 * console.log(xdgDirs().dataHome); // e.g. /home/me/.local/share
 * ```
 */
export function xdgDirs(): XdgDirs {
  const home = Deno.env.get("HOME") ?? "";
  const absolute = (value: string | undefined) => value && value.startsWith("/") ? value : undefined;
  return {
    dataHome: absolute(Deno.env.get("XDG_DATA_HOME")) ?? `${home}/.local/share`,
    configHome: absolute(Deno.env.get("XDG_CONFIG_HOME")) ?? `${home}/.config`,
  };
}

/**
 * Quotes one argument of a desktop entry's `Exec` key: plain words as they are, others in double quotes with `"`,
 * `` ` ``, `$` and `\` escaped, and every `\` then doubled once more as the entry's string escaping requires.
 * A `%` is written `%%` (field codes).
 *
 * @example
 * ```ts
 * import { quoteExecArgument } from "./url-handler.ts";
 * quoteExecArgument("/opt/my tools/kortti"); // "\"/opt/my tools/kortti\""
 * ```
 */
export function quoteExecArgument(argument: string): string {
  const escapedPercent = argument.replaceAll("%", "%%");
  if (/^[A-Za-z0-9_@+=:,./%-]+$/.test(escapedPercent)) return escapedPercent;
  const quoted = `"${escapedPercent.replace(/["`$\\]/g, (c) => `\\${c}`)}"`;
  return quoted.replaceAll("\\", "\\\\");
}

/**
 * The desktop entry that runs `exec` with the URL appended (`%u`).
 *
 * @example
 * ```ts
 * import { desktopEntry } from "./url-handler.ts";
 * console.log(desktopEntry(["/usr/local/bin/kortti", "post-url"]));
 * ```
 */
export function desktopEntry(exec: string[]): string {
  if (exec.some((argument) => /[\r\n\0]/.test(argument))) {
    throw new IoError("the handler's command line holds a line break", { hint: "install kortti in a plain path" });
  }
  return [
    "[Desktop Entry]",
    "Type=Application",
    "Version=1.0",
    "Name=kortti erasmartcardpost handler",
    "Comment=Posts the erasmartcard port to the web page that asked (kortti post-url)",
    `Exec=${exec.map(quoteExecArgument).join(" ")} %u`,
    `MimeType=${ERA_POST_MIME_TYPE};`,
    "NoDisplay=true",
    "Terminal=false",
    "",
  ].join("\n");
}

/** What `registerUrlHandler` did. */
export interface Registration {
  /** The desktop entry written. */
  desktopFile: string;
  /** Whether `xdg-mime default` made it the default handler. */
  madeDefault: boolean;
  /** Why it could not (xdg-mime missing or failing), when it could not. */
  defaultProblem?: string;
}

/**
 * Writes the desktop entry (atomically) and makes it the default handler with `xdg-mime default` when available.
 *
 * @example
 * ```ts
 * import { registerUrlHandler } from "./url-handler.ts";
 * await registerUrlHandler({ exec: ["/usr/local/bin/kortti", "post-url"] });
 * ```
 */
export async function registerUrlHandler(options: { exec: string[]; dirs?: XdgDirs }): Promise<Registration> {
  const dirs = options.dirs ?? xdgDirs();
  const directory = `${dirs.dataHome}/applications`;
  const desktopFile = `${directory}/${DESKTOP_FILE_NAME}`;
  try {
    await Deno.mkdir(directory, { recursive: true });
    writeText(desktopFile, desktopEntry(options.exec));
  } catch (error) {
    if (error instanceof IoError) throw error;
    throw new IoError(`cannot write ${desktopFile}: ${(error as Error).message}`, { cause: error });
  }
  await runQuietly("update-desktop-database", [directory], dirs);
  const outcome = await runQuietly("xdg-mime", ["default", DESKTOP_FILE_NAME, ERA_POST_MIME_TYPE], dirs);
  return outcome === true
    ? { desktopFile, madeDefault: true }
    : { desktopFile, madeDefault: false, defaultProblem: outcome };
}

/** What `unregisterUrlHandler` did. */
export interface Unregistration {
  /** The desktop entry, if there was one to remove. */
  removedFile?: string;
  /** Whether a default association to it was removed from `mimeapps.list`. */
  removedDefault: boolean;
}

/**
 * Removes the desktop entry and kortti's default association for the scheme (only ours: another handler chosen by
 * the user stays).
 *
 * @example
 * ```ts
 * import { unregisterUrlHandler } from "./url-handler.ts";
 * await unregisterUrlHandler();
 * ```
 */
export async function unregisterUrlHandler(options: { dirs?: XdgDirs } = {}): Promise<Unregistration> {
  const dirs = options.dirs ?? xdgDirs();
  const desktopFile = `${dirs.dataHome}/applications/${DESKTOP_FILE_NAME}`;
  let removedFile: string | undefined;
  try {
    await Deno.remove(desktopFile);
    removedFile = desktopFile;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new IoError(`cannot remove ${desktopFile}: ${(error as Error).message}`, { cause: error });
    }
  }
  const removedDefault = await dropDefaultAssociation(`${dirs.configHome}/mimeapps.list`);
  if (removedFile) await runQuietly("update-desktop-database", [`${dirs.dataHome}/applications`], dirs);
  return { removedFile, removedDefault };
}

/**
 * Removes kortti's desktop-file id from the scheme's lines of a `mimeapps.list`; returns whether it changed it.
 */
async function dropDefaultAssociation(path: string): Promise<boolean> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return false;
  }
  let changed = false;
  const prefix = `${ERA_POST_MIME_TYPE}=`;
  const lines: string[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) {
      lines.push(line);
      continue;
    }
    const ids = line.slice(prefix.length).split(";").filter((id) => id !== "");
    const kept = ids.filter((id) => id !== DESKTOP_FILE_NAME);
    if (kept.length === ids.length) {
      lines.push(line);
      continue;
    }
    changed = true;
    if (kept.length > 0) lines.push(`${prefix}${kept.join(";")};`);
  }
  if (changed) writeText(path, lines.join("\n"));
  return changed;
}

/** Runs a helper tool with the XDG directories in its environment: true on success, else why not. */
async function runQuietly(tool: string, args: string[], dirs: XdgDirs): Promise<true | string> {
  try {
    const output = await new Deno.Command(tool, {
      args,
      env: { XDG_DATA_HOME: dirs.dataHome, XDG_CONFIG_HOME: dirs.configHome },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (output.success) return true;
    const said = new TextDecoder().decode(output.stderr).trim().split("\n")[0];
    return `${tool} failed${said ? ` (${said})` : ""}`;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return `${tool} is not installed`;
    return `${tool} could not run (${(error as Error).message})`;
  }
}

function writeText(path: string, text: string): void {
  writeFileAtomic(path, new TextEncoder().encode(text), { force: true, mode: 0o644 });
}
