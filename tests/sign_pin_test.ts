/**
 * PIN and card failures through the signing core and the in-process virtual card: a wrong PIN costs exactly one
 * try and is never retried, the last try is kept unless allowed, a blocked PIN is refused, and a card pulled at
 * any APDU of a signature ends in `CardRemovedError` (exit 4).
 */
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { openCard } from "../lib/open.ts";
import { signWithCard } from "../lib/sign/mod.ts";
import { CardRemovedError, KorttiError, PinBlockedError, PinLastTryError, PinWrongError } from "../lib/errors.ts";
import type { Card, PinRequest } from "../lib/card/card.ts";

const digest = new Uint8Array(48).fill(7);

function pinCounting(pin: string, asked: PinRequest[]) {
  return (request: PinRequest) => {
    asked.push(request);
    return Promise.resolve(new TextEncoder().encode(pin));
  };
}

async function signRaw(card: Card, pin: string, asked: PinRequest[], allowLastTry = false) {
  return await signWithCard({
    card,
    key: "sign",
    format: "raw",
    digest,
    hash: "sha384",
    pin: pinCounting(pin, asked),
    allowLastTry,
  });
}

Deno.test("a wrong PIN costs exactly one try, is asked once, and the error tells the tries left", async () => {
  const card = await openCard({ virtualCard: "v4" });
  try {
    assertEquals((await card.pinStatus("PIN2")).triesLeft, 5);
    const asked: PinRequest[] = [];
    const error = await assertRejects(() => signRaw(card, "999999", asked), PinWrongError);
    assertEquals(error.triesLeft, 4);
    assertEquals(error.exitCode, 5);
    assertEquals(asked.length, 1, "never retried");
    assertEquals(asked[0].pin, "PIN2");
    assert(asked[0].holder?.includes("MATTI"), "the prompt can name the card holder");
    assertEquals((await card.pinStatus("PIN2")).triesLeft, 4);
    // The right PIN then signs and the counter is back to full.
    const result = await signRaw(card, "123456", asked);
    assertEquals(result.output.length, 96);
    assertEquals((await card.pinStatus("PIN2")).triesLeft, 5);
  } finally {
    await card.close();
  }
});

Deno.test("the last try is not spent unasked; with allowLastTry a wrong PIN blocks, and a blocked PIN is refused", async () => {
  const card = await openCard({ virtualCard: { profile: "v4", triesLeft: { PIN2: 1 } } });
  try {
    const asked: PinRequest[] = [];
    const last = await assertRejects(() => signRaw(card, "123456", asked), PinLastTryError);
    assertEquals(last.exitCode, 5);
    assertEquals(asked.length, 0, "the PIN is not even asked");
    assertEquals((await card.pinStatus("PIN2")).triesLeft, 1);
    await assertRejects(() => signRaw(card, "999999", asked, true), KorttiError);
    assertEquals((await card.pinStatus("PIN2")).blocked, true);
    const blocked = await assertRejects(() => signRaw(card, "123456", asked, true), PinBlockedError);
    assertEquals(blocked.exitCode, 5);
  } finally {
    await card.close();
  }
});

Deno.test("a card started blocked refuses at once with exit 5", async () => {
  const card = await openCard({ virtualCard: { profile: "v3", blocked: ["sign"] } });
  try {
    const asked: PinRequest[] = [];
    await assertRejects(
      () =>
        signWithCard({
          card,
          key: "sign",
          format: "cms-detached",
          input: { bytes: new Uint8Array(10) },
          pin: pinCounting("123456", asked),
        }),
      PinBlockedError,
    );
    assertEquals(asked.length, 0);
  } finally {
    await card.close();
  }
});

Deno.test("a card pulled at any APDU of a signature ends in CardRemovedError (exit 4)", async () => {
  // Count what a whole signature takes, then pull the card after each prefix of it.
  const probe = await openCard({ virtualCard: "v4" });
  const before = probe.apduCount;
  await signWithCard({
    card: probe,
    key: "sign",
    format: "cms-detached",
    input: { bytes: new Uint8Array(10) },
    pin: pinCounting("123456", []),
  });
  const total = probe.apduCount;
  await probe.close();
  assert(total > before);
  for (let n = 0; n < total; n++) {
    let card: Card;
    try {
      card = await openCard({ virtualCard: { profile: "v4", failAfter: n } });
    } catch (error) {
      assert(error instanceof CardRemovedError, `open after ${n}: ${error}`);
      continue;
    }
    try {
      const error = await assertRejects(
        () =>
          signWithCard({
            card,
            key: "sign",
            format: "cms-detached",
            input: { bytes: new Uint8Array(10) },
            pin: pinCounting("123456", []),
          }),
        KorttiError,
      );
      assertEquals(error.exitCode, 4, `pulled after ${n} APDUs: ${error.message}`);
    } finally {
      await card.close().catch(() => undefined);
    }
  }
});
