/**
 * File helpers for outputs: atomic writes (a temporary file in the same directory, flushed, then renamed or linked
 * into place) so that a reader of the output never sees half a file, and a failure at any point (card pulled, disk
 * full, a signal) leaves neither the output nor the temporary file behind.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./fs.ts";
 * writeFileAtomic("contract.p7s", new Uint8Array([0x30, 0x00]), { force: false });
 * ```
 * @module
 */

import { IoError, OutputExistsError } from "./errors.ts";

/** Options of `writeFileAtomic`. */
export interface WriteAtomicOptions {
  /** Replace an existing file. Without it an existing file is an `OutputExistsError` (exit 7). */
  force?: boolean;
  /** File mode of a new file (before the umask); default 0o644. */
  mode?: number;
}

/**
 * Throws `OutputExistsError` when `path` exists and `force` is not set. Call it before any costly or irreversible
 * step (hashing, spending a PIN try) so the user learns early; `writeFileAtomic` checks again at the end.
 *
 * @example
 * ```ts
 * import { assertWritableOutput } from "./fs.ts";
 * assertWritableOutput("out.p7s", false);
 * ```
 */
export function assertWritableOutput(path: string, force = false): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      const directory = directoryOf(path);
      try {
        if (!Deno.statSync(directory).isDirectory) throw new IoError(`${directory} is not a directory`);
      } catch (inner) {
        if (inner instanceof IoError) throw inner;
        throw new IoError(`cannot write ${path}: the directory ${directory} does not exist`, { cause: inner });
      }
      return;
    }
    throw new IoError(`cannot write ${path} (${describe(error)})`, { cause: error });
  }
  if (info.isDirectory) throw new IoError(`${path} is a directory`, { hint: "give a file name to --out" });
  if (!force) throw new OutputExistsError(path);
}

/**
 * Writes `bytes` to `path` atomically: a temporary file beside it, written and synced, then moved into place. Without
 * `force` the move is a hard link, which fails if the output appeared meanwhile, so an existing file is never
 * replaced. Any failure removes the temporary file and throws `IoError` or `OutputExistsError`.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./fs.ts";
 * writeFileAtomic("/tmp/signature.sig", new Uint8Array(64), { force: true });
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array, options: WriteAtomicOptions = {}): void {
  assertWritableOutput(path, options.force);
  const temporary = temporaryPathFor(path);
  let created = false;
  try {
    const file = Deno.openSync(temporary, { write: true, createNew: true, mode: options.mode ?? 0o644 });
    created = true;
    // An explicit mode is meant exactly (a data-directory key is 0600, a certificate 0644), whatever the umask.
    if (options.mode !== undefined && Deno.build.os !== "windows") Deno.chmodSync(temporary, options.mode);
    try {
      let at = 0;
      while (at < bytes.length) at += file.writeSync(bytes.subarray(at));
      file.syncSync();
    } finally {
      file.close();
    }
    if (options.force) {
      Deno.renameSync(temporary, path);
    } else {
      try {
        Deno.linkSync(temporary, path);
      } catch (error) {
        if (error instanceof Deno.errors.AlreadyExists) throw new OutputExistsError(path);
        if (!(error instanceof Deno.errors.NotSupported || error instanceof Deno.errors.PermissionDenied)) throw error;
        // File systems without hard links: rename after one more look; the window is tiny.
        assertWritableOutput(path, false);
        Deno.renameSync(temporary, path);
      }
    }
  } catch (error) {
    if (error instanceof OutputExistsError || error instanceof IoError) throw error;
    throw new IoError(`cannot write ${path} (${describe(error)})`, { cause: error });
  } finally {
    if (created) removeQuietly(temporary);
  }
}

/**
 * A fresh temporary name in the same directory as `path` (same file system, so the final rename is atomic).
 *
 * @example
 * ```ts
 * import { temporaryPathFor } from "./fs.ts";
 * temporaryPathFor("/data/out.p7s"); // "/data/.out.p7s.kortti-1a2b3c4d.tmp"
 * ```
 */
export function temporaryPathFor(path: string): string {
  const directory = directoryOf(path);
  const name = path.slice(path.lastIndexOf("/") + 1);
  const random = crypto.getRandomValues(new Uint8Array(4));
  const tag = Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${directory === "." && !path.startsWith("./") ? "" : directory + "/"}.${name}.kortti-${tag}.tmp`;
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return path.slice(0, slash);
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch {
    // Already renamed into place, or never written.
  }
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file or directory";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
