/**
 * One card operation (and so one PIN dialog) at a time: `CardQueue` runs jobs strictly one after another and keeps
 * at most `capacity` waiting; beyond that it refuses at once with `QueueFullError`, so a flood of requests cannot
 * pile up dialogs or memory.
 *
 * @example
 * ```ts
 * import { CardQueue } from "./queue.ts";
 * const queue = new CardQueue(4);
 * const [a, b] = await Promise.all([queue.run(async () => 1), queue.run(async () => 2)]);
 * console.log(a + b); // 3
 * ```
 * @module
 */

/**
 * Thrown by `CardQueue.run` when the queue is full.
 *
 * @example
 * ```ts
 * import { CardQueue, QueueFullError } from "./queue.ts";
 * const queue = new CardQueue(0); // one running, none waiting
 * const first = queue.run(() => new Promise((r) => setTimeout(r, 10)));
 * try { await queue.run(async () => {}); } catch (e) { console.log(e instanceof QueueFullError); } // true
 * await first;
 * ```
 */
export class QueueFullError extends Error {
  /** How many operations were running or waiting. */
  readonly pending: number;
  constructor(pending: number) {
    super(`busy: ${pending} card operations are running or waiting`);
    this.name = "QueueFullError";
    this.pending = pending;
  }
}

/**
 * A strictly serial job queue with a bounded number of waiting jobs.
 *
 * @example
 * ```ts
 * import { CardQueue } from "./queue.ts";
 * const queue = new CardQueue(8);
 * console.log(await queue.run(() => Promise.resolve("signed")), queue.pending);
 * ```
 */
export class CardQueue {
  /** How many jobs may wait behind the running one. */
  readonly capacity: number;
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** Jobs running or waiting. */
  get pending(): number {
    return this.#pending;
  }

  /** Runs the job after all earlier ones have finished; throws `QueueFullError` when too many wait. */
  run<T>(job: () => Promise<T>): Promise<T> {
    // One running plus `capacity` waiting.
    if (this.#pending > this.capacity) return Promise.reject(new QueueFullError(this.#pending));
    this.#pending++;
    const result = this.#tail.then(job).finally(() => this.#pending--);
    this.#tail = result.catch(() => {});
    return result;
  }
}
