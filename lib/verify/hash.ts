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
 * Hashes a file like `hashFile`, but overlaps reading and hashing: while one 1 MiB block is hashed on this thread,
 * the next is read into a second buffer by the runtime's I/O thread. Meant for a worker, where nothing else waits.
 *
 * @example
 * ```ts
 * import { hashFileOverlapped } from "./hash.ts";
 * const digests = await hashFileOverlapped("big.iso", ["sha256"]);
 * ```
 */
export async function hashFileOverlapped(
  path: string,
  algorithms: readonly string[],
): Promise<Map<string, Uint8Array>> {
  const hashes: [string, Hash][] = [...new Set(algorithms)].map((name) => [name, createHash(name)]);
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (error) {
    throw new IoError(`cannot read ${path} (${describe(error)})`, { cause: error });
  }
  let current = new Uint8Array(BLOCK);
  let spare = new Uint8Array(BLOCK);
  try {
    let n = await file.read(current);
    while (n !== null) {
      const next = file.read(spare);
      const chunk = n === BLOCK ? current : current.subarray(0, n);
      for (const [, hash] of hashes) hash.update(chunk);
      n = await next;
      [current, spare] = [spare, current];
    }
  } catch (error) {
    throw new IoError(`cannot read ${path} (${describe(error)})`, { cause: error });
  } finally {
    file.close();
  }
  return new Map(hashes.map(([name, hash]) => [name, new Uint8Array(hash.digest())]));
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

/**
 * Hashes a file in a worker thread: the returned promise settles when done, and the caller's thread is free
 * meanwhile. Never rejects: a failure comes back as `{ error }` (an `IoError`), so an unawaited result cannot
 * crash the process.
 *
 * @example
 * ```ts
 * import { hashFileInWorker } from "./hash.ts";
 * const pending = hashFileInWorker("big.iso", ["sha256"]);
 * // ... other work ...
 * const result = await pending;
 * if ("digests" in result) console.log(result.digests.get("sha256"));
 * ```
 */
export function hashFileInWorker(
  path: string,
  algorithms: readonly string[],
): Promise<{ digests: Map<string, Uint8Array> } | { error: IoError }> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./hash-worker.ts", import.meta.url), { type: "module" });
    } catch {
      // No workers here (e.g. a restricted runtime): hash on this thread instead.
      try {
        resolve({ digests: hashFile(path, algorithms) });
      } catch (error) {
        resolve({ error: error instanceof IoError ? error : new IoError(`cannot read ${path}`, { cause: error }) });
      }
      return;
    }
    worker.onmessage = (event: MessageEvent) => {
      worker.terminate();
      const data = event.data as { digests?: Record<string, Uint8Array>; error?: { message: string } };
      if (data.digests) resolve({ digests: new Map(Object.entries(data.digests)) });
      else resolve({ error: new IoError(data.error?.message ?? `cannot read ${path}`) });
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      resolve({ error: new IoError(`cannot hash ${path} (${event.message})`) });
    };
    worker.postMessage({ path, algorithms: [...algorithms] });
  });
}
