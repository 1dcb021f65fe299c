/**
 * Worker that hashes a file off the main thread (see `hashFileInWorker` in hash.ts), so that a large content is
 * hashed while the main thread loads and checks everything else. Receives `{ path, algorithms }`, answers
 * `{ digests }` or `{ error: { kind, message } }`, then closes.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL("./hash-worker.ts", import.meta.url), { type: "module" });
 * worker.postMessage({ path: "big.iso", algorithms: ["sha256"] });
 * ```
 * @module
 */

import { hashFileOverlapped } from "./hash.ts";

/** The request a hash worker takes. */
export interface HashJob {
  path: string;
  algorithms: string[];
}

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<HashJob>) => void | Promise<void>) | null;
  postMessage(message: unknown): void;
  close(): void;
};

scope.onmessage = async (event) => {
  try {
    const digests = await hashFileOverlapped(event.data.path, event.data.algorithms);
    scope.postMessage({ digests: Object.fromEntries(digests) });
  } catch (error) {
    scope.postMessage({ error: { message: error instanceof Error ? error.message : String(error) } });
  }
  scope.close();
};
