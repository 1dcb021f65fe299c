/**
 * Streaming hashing for signatures: the input is read once, in one reused 1 MiB buffer, and fed to `node:crypto`
 * (docs/performance-notes.md: this matches `openssl dgst`, web streams cost 3× and WebCrypto cannot stream). Memory
 * stays flat at the buffer size whatever the input size.
 *
 * @example
 * ```ts
 * import { hashPath } from "./hash.ts";
 * const digest = await hashPath("contract.pdf", "sha256");
 * console.log(digest.length); // 32
 * ```
 * @module
 */

import { createHash } from "node:crypto";
import type { HashName } from "../card/card.ts";
import { IoError } from "../errors.ts";

/** Digest length in bytes of each hash kortti signs with. */
export const DIGEST_LENGTH: Readonly<Record<HashName, number>> = { sha256: 32, sha384: 48, sha512: 64 };

/** Progress of a long hash: bytes read so far, and the total when known. */
export interface HashProgress {
  /** Bytes hashed so far. */
  bytes: number;
  /** Input size, when known (a file; not a pipe). */
  total?: number;
}

/** Options of `hashPath`. */
export interface HashOptions {
  /** Called after each block. */
  onProgress?: (progress: HashProgress) => void;
  /** Block size; 1 MiB unless measured otherwise. */
  blockSize?: number;
}

const BLOCK = 1024 * 1024;
/** Yield to the event loop every this many blocks, so a server stays responsive while a big file is hashed. */
const YIELD_EVERY = 64;

/**
 * Whether `name` is a hash kortti signs with.
 *
 * @example
 * ```ts
 * import { isHashName } from "./hash.ts";
 * isHashName("sha384"); // true
 * ```
 */
export function isHashName(name: string): name is HashName {
  return name === "sha256" || name === "sha384" || name === "sha512";
}

/**
 * The hash of bytes in memory.
 *
 * @example
 * ```ts
 * import { hashBytes } from "./hash.ts";
 * hashBytes(new TextEncoder().encode("abc"), "sha256").length; // 32
 * ```
 */
export function hashBytes(bytes: Uint8Array, hash: HashName): Uint8Array {
  return new Uint8Array(createHash(hash).update(bytes).digest());
}

/**
 * Hashes a file, or standard input for `-`, as a stream. A missing or unreadable file is an `IoError` (exit 7).
 *
 * @example
 * ```ts
 * import { hashPath } from "./hash.ts";
 * const digest = await hashPath("big.iso", "sha384", { onProgress: (p) => void p.bytes });
 * ```
 */
export async function hashPath(path: string, hash: HashName, options: HashOptions = {}): Promise<Uint8Array> {
  if (path === "-") return await hashReader(Deno.stdin, hash, undefined, options);
  const file = openToRead(path);
  try {
    const info = file.statSync();
    if (info.isDirectory) throw new IoError(`${path} is a directory`, { hint: "give a file to --in" });
    return await hashReader(file, hash, info.size, options, path);
  } finally {
    file.close();
  }
}

/**
 * Hashes whatever a synchronous reader gives until its end (`readSync` returning null).
 *
 * @example
 * ```ts
 * import { hashReader } from "./hash.ts";
 * const digest = await hashReader(Deno.stdin, "sha256");
 * ```
 */
export async function hashReader(
  reader: { readSync(buffer: Uint8Array): number | null },
  hash: HashName,
  total?: number,
  options: HashOptions = {},
  name = "the input",
): Promise<Uint8Array> {
  const hasher = createHash(hash);
  const buffer = new Uint8Array(options.blockSize ?? BLOCK);
  let bytes = 0;
  let blocks = 0;
  for (;;) {
    const n = readSome(reader, buffer, name);
    if (n === null) break;
    hasher.update(n === buffer.length ? buffer : buffer.subarray(0, n));
    bytes += n;
    options.onProgress?.({ bytes, total });
    if (++blocks % YIELD_EVERY === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return new Uint8Array(hasher.digest());
}

/** Opens a file to read; a missing or unreadable one is an `IoError` (exit 7). */
function openToRead(path: string): Deno.FsFile {
  try {
    return Deno.openSync(path, { read: true });
  } catch (error) {
    throw new IoError(`cannot read ${path} (${describeError(error)})`, { cause: error });
  }
}

/** One `readSync` into `buffer` (null at the end); a read error is an `IoError` that names what was read. */
function readSome(
  reader: { readSync(buffer: Uint8Array): number | null },
  buffer: Uint8Array,
  name: string,
): number | null {
  try {
    return reader.readSync(buffer);
  } catch (error) {
    throw new IoError(`cannot read ${name} (${describeError(error)})`, { cause: error });
  }
}

/** A short reason for a file system error. */
export function describeError(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "is a directory";
  return error instanceof Error ? error.message : String(error);
}

/** Content read into memory with room around it, and its hash. */
export interface ReadContent {
  /** The buffer: `headRoom` free bytes, the content, then at least `tailRoom` free bytes. */
  buffer: Uint8Array;
  /** Where the content starts in `buffer`. */
  start: number;
  /** Content length. */
  length: number;
  /** Its hash. */
  digest: Uint8Array;
}

/**
 * Reads a whole file (or standard input for `-`) into one buffer with free room before and after it, hashing it
 * on the way: for content embedded in the output (`--format cms`), which then gets its DER headers written around
 * it in place instead of being copied (a file of N bytes costs N bytes of memory, once).
 *
 * @example
 * ```ts
 * import { readAndHash } from "./hash.ts";
 * const read = await readAndHash("report.txt", "sha256", { headRoom: 256, tailRoom: 65536 });
 * read.buffer.subarray(read.start, read.start + read.length); // the file
 * ```
 */
export async function readAndHash(
  path: string,
  hash: HashName,
  options: HashOptions & { headRoom: number; tailRoom: number },
): Promise<ReadContent> {
  const hasher = createHash(hash);
  if (path === "-") {
    // Size unknown: gather blocks, then place them once.
    const blocks: Uint8Array[] = [];
    let length = 0;
    const block = new Uint8Array(options.blockSize ?? BLOCK);
    for (;;) {
      const n = readSome(Deno.stdin, block, "standard input");
      if (n === null) break;
      const copy = block.slice(0, n);
      hasher.update(copy);
      blocks.push(copy);
      length += n;
      options.onProgress?.({ bytes: length });
    }
    const buffer = new Uint8Array(options.headRoom + length + options.tailRoom);
    let at = options.headRoom;
    for (const b of blocks.splice(0)) {
      buffer.set(b, at);
      at += b.length;
    }
    return { buffer, start: options.headRoom, length, digest: new Uint8Array(hasher.digest()) };
  }
  const file = openToRead(path);
  try {
    const size = file.statSync().size;
    const buffer = new Uint8Array(options.headRoom + size + options.tailRoom);
    const blockSize = options.blockSize ?? BLOCK;
    let length = 0;
    let blocks = 0;
    for (;;) {
      const room = Math.min(blockSize, size - length);
      if (room === 0) {
        // At the size stat gave: anything more means the file grew while it was read.
        if (file.readSync(new Uint8Array(1)) !== null) throw new IoError(`${path} changed while it was read`);
        break;
      }
      const view = buffer.subarray(options.headRoom + length, options.headRoom + length + room);
      const n = readSome(file, view, path);
      if (n === null) break;
      hasher.update(view.subarray(0, n));
      length += n;
      options.onProgress?.({ bytes: length, total: size });
      if (++blocks % YIELD_EVERY === 0) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return { buffer, start: options.headRoom, length, digest: new Uint8Array(hasher.digest()) };
  } finally {
    file.close();
  }
}
