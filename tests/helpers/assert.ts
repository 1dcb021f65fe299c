/**
 * Small assertions for tests (JSR's @std/assert is not reachable here), built on node:assert.
 *
 * @example
 * ```ts
 * import { assertEquals } from "./assert.ts";
 * assertEquals(1 + 1, 2);
 * ```
 * @module
 */

import nodeAssert from "node:assert/strict";

/** Fails unless the value is truthy. */
export function assert(value: unknown, message?: string): asserts value {
  nodeAssert.ok(value, message);
}

/** Fails unless the two are deeply equal. */
export function assertEquals<T>(actual: unknown, expected: T, message?: string): asserts actual is T {
  nodeAssert.deepStrictEqual(actual, expected, message);
}

/** Fails if the two are deeply equal. */
export function assertNotEquals(actual: unknown, expected: unknown, message?: string): void {
  nodeAssert.notDeepStrictEqual(actual, expected, message);
}

/** Fails unless the text matches. */
export function assertMatch(actual: string, expected: RegExp, message?: string): void {
  nodeAssert.match(actual, expected, message);
}

/** Fails if the text matches. */
export function assertNotMatch(actual: string, expected: RegExp, message?: string): void {
  nodeAssert.doesNotMatch(actual, expected, message);
}

/** Fails unless the function throws an error of the class (and message pattern); returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  errorClass: new (...args: never[]) => E,
  pattern?: RegExp,
): E {
  try {
    fn();
  } catch (error) {
    nodeAssert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${error}`);
    if (pattern) nodeAssert.match((error as Error).message, pattern);
    return error as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${errorClass.name} to be thrown` });
}

/** Fails unless the promise rejects with an error of the class (and message pattern); returns the error. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  errorClass: new (...args: never[]) => E,
  pattern?: RegExp,
): Promise<E> {
  try {
    await fn();
  } catch (error) {
    nodeAssert.ok(error instanceof errorClass, `expected ${errorClass.name}, got ${error}`);
    if (pattern) nodeAssert.match((error as Error).message, pattern);
    return error as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${errorClass.name} to be thrown` });
}
