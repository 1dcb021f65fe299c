/**
 * Streaming file hashing for verification: reads the file once, in one reused 1 MiB buffer, and feeds every
 * requested digest (docs/performance-notes.md: this matches `openssl dgst`; web streams cost 3×).
 *
 * @example
 * ```ts
 * import { hashFile } from "./hash.ts";
 * const digests = hashFile("contract.pdf", ["sha256"]);
 * console.log(digests.get("sha256")?.length); // 32
 * ```
 * @module
 */

import { createHash, type Hash } from "node:crypto";
import { IoError } from "../errors.ts";

const BLOCK = 1024 * 1024;

/**
 * Hashes a file with one or more algorithms (node:crypto names such as `sha256`) in a single pass.
 *
 * @example
 * ```ts
 * import { hashFile } from "./hash.ts";
 * const both = hashFile("/etc/hostname", ["sha256", "sha384"]);
 * ```
 */
export function hashFile(path: string, algorithms: readonly string[]): Map<string, Uint8Array> {
  const hashes: [string, Hash][] = [...new Set(algorithms)].map((name) => [name, createHash(name)]);
  streamFile(path, (chunk) => {
    for (const [, hash] of hashes) hash.update(chunk);
  });
  return new Map(hashes.map(([name, hash]) => [name, new Uint8Array(hash.digest())]));
}

/**
 * Feeds a file to `onBlock` in 1 MiB blocks of one reused buffer (so `onBlock` must not keep the block).
 *
 * @example
 * ```ts
 * import { streamFile } from "./hash.ts";
 * let size = 0;
 * streamFile("/etc/hostname", (block) => size += block.length);
 * ```
 */
export function streamFile(path: string, onBlock: (block: Uint8Array) => void): void {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { read: true });
  } catch (error) {
    throw new IoError(`cannot read ${path} (${describe(error)})`, { cause: error });
  }
  const buffer = new Uint8Array(BLOCK);
  try {
    for (;;) {
      let n: number | null;
      try {
        n = file.readSync(buffer);
      } catch (error) {
        throw new IoError(`cannot read ${path} (${describe(error)})`, { cause: error });
      }
      if (n === null) break;
      onBlock(n === BLOCK ? buffer : buffer.subarray(0, n));
    }
  } finally {
    file.close();
  }
}

/**
 * Hashes bytes already in memory with one or more algorithms.
 *
 * @example
 * ```ts
 * import { hashBytes } from "./hash.ts";
 * hashBytes(new Uint8Array([1, 2]), ["sha256"]).get("sha256");
 * ```
 */
export function hashBytes(data: Uint8Array, algorithms: readonly string[]): Map<string, Uint8Array> {
  return new Map(
    [...new Set(algorithms)].map((name) => [name, new Uint8Array(createHash(name).update(data).digest())]),
  );
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  return error instanceof Error ? error.message : String(error);
}
