/**
 * PC/SC benchmarks: the round trip of a 5-byte APDU from lib/pcsc through pcscd and vpcd to a card on the vpcd
 * bridge and back (median of 1,000). Starts a private pcscd when allowed (`KORTTI_TEST_STACK=1`, i.e. inside
 * tests/stack/isolate.sh); otherwise reports why it was skipped.
 *
 * @example
 * ```ts
 * import { run } from "./pcsc.ts";
 * for (const result of await run()) console.log(result.name, result.value, result.unit);
 * ```
 * @module
 */

import { connectReader } from "../lib/pcsc/mod.ts";
import { plugCard, STACK_AVAILABLE, startStack, waitForCard } from "../tests/helpers/stack.ts";
import { type BenchResult, median, percentile } from "./result.ts";

const ROUNDS = 1000;
const WARM_UP = 50;
const V4_ATR = new Uint8Array([
  0x3b,
  0x7f,
  0x96,
  0x00,
  0x00,
  0x80,
  0x31,
  0xb8,
  0x65,
  0xb0,
  0x85,
  0x05,
  0x00,
  0x11,
  0x12,
  0x24,
  0x60,
  0x82,
  0x90,
  0x00,
]);

const WITHOUT_FIX_ROUNDS = 20;

/** Times `rounds` 5-byte APDUs to a card on `Virtual PCD 00 00` (after a warm-up). */
async function roundTrips(rounds: number, quickAck: boolean): Promise<number[]> {
  const card = await plugCard({ atr: V4_ATR, quickAck, respond: () => new Uint8Array([0x01, 0x02, 0x90, 0x00]) });
  await waitForCard(card.reader, true);
  const connection = await connectReader(card.reader);
  const apdu = new Uint8Array([0x00, 0xb0, 0x00, 0x00, 0x02]);
  const times: number[] = [];
  const warmUp = Math.min(WARM_UP, rounds);
  try {
    for (let i = 0; i < warmUp + rounds; i++) {
      const started = performance.now();
      await connection.transmit(apdu);
      if (i >= warmUp) times.push(performance.now() - started);
    }
  } finally {
    await connection.close();
    await card.close();
    await waitForCard(card.reader, false);
  }
  return times;
}

/** Measures the APDU round trip, with and without the TCP_QUICKACK fix. */
export async function run(): Promise<BenchResult[]> {
  const name = `5-byte APDU round trip via pcscd+vpcd (median of ${ROUNDS})`;
  if (!STACK_AVAILABLE) {
    return [{ name, value: NaN, unit: "ms", note: "skipped: run inside tests/stack/isolate.sh (make bench)" }];
  }
  const stack = await startStack();
  try {
    const times = await roundTrips(ROUNDS, true);
    const withoutFix = await roundTrips(WITHOUT_FIX_ROUNDS, false);
    return [{
      name,
      value: median(times),
      unit: "ms",
      note: `p95 ${percentile(times, 95).toFixed(2)} ms, max ${Math.max(...times).toFixed(2)} ms; TCP_QUICKACK on`,
    }, {
      name: `same without TCP_QUICKACK (median of ${WITHOUT_FIX_ROUNDS})`,
      value: median(withoutFix),
      unit: "ms",
      note: "for comparison: the delayed-ACK cost the fix removes",
    }];
  } finally {
    await stack.stop();
  }
}
