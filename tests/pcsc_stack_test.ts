// lib/pcsc against a real pcscd + vpcd: readers, ATRs, transmit (61xx/6Cxx through ApduChannel), removal,
// transactions, events, and recovery after pcscd is killed and restarted.
import { ApduChannel, command, fromHex, toHex } from "../lib/apdu.ts";
import { CardRemovedError, NoCardError, NoServiceError, ReaderBusyError } from "../lib/errors.ts";
import { connectReader, listReaders, PcscContext, type ReaderEvent, watchReaders } from "../lib/pcsc/mod.ts";
import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { plugCard, stackTest, waitForCard } from "./helpers/stack.ts";

const V4_ATR = fromHex("3B7F96000080 31B865B085 0500111224 60829000");
const READER0 = "Virtual PCD 00 00";
const READER1 = "Virtual PCD 00 01";

stackTest("both vpcd readers are listed without a card", async () => {
  const readers = await listReaders();
  assertEquals(readers.map((r) => [r.index, r.name, r.cardPresent, r.atr]), [
    [0, READER0, false, null],
    [1, READER1, false, null],
  ]);
  assert(readers[0].state.includes("empty"));
  await assertRejects(() => connectReader(READER0), NoCardError);
});

stackTest("a plugged card shows its ATR; APDUs go through with 61xx and 6Cxx handled by ApduChannel", async () => {
  const card = await plugCard({
    atr: V4_ATR,
    respond: (apdu) => {
      const hex = toHex(apdu);
      if (hex === "00B0000000") return fromHex("6C05"); // wrong Le: resend with 05
      if (hex === "00B0000005") return fromHex("0102030405 6103"); // 3 more bytes waiting
      if (hex === "00C0000003") return fromHex("060708 9000");
      return fromHex("6D00");
    },
  });
  try {
    const reader = await waitForCard(READER0, true);
    assertEquals(toHex(reader.atr!), toHex(V4_ATR));
    const connection = await connectReader(READER0);
    assertEquals(toHex(connection.atr), toHex(V4_ATR));
    assertEquals(connection.readerName, READER0);
    const channel = new ApduChannel(connection);
    const response = await channel.send(command(0x00, 0xb0, 0x00, 0x00, undefined, 0));
    assertEquals([toHex(response.data), response.sw], ["0102030405060708", 0x9000]);
    assertEquals(channel.count, 3);
    assertEquals(card.received.map(toHex), ["00B0000000", "00B0000005", "00C0000003"]);
    await connection.close();
    await connection.close(); // twice is fine
  } finally {
    await card.close();
  }
});

stackTest("a card pulled during a transmit gives CardRemovedError", async () => {
  const card = await plugCard({
    atr: V4_ATR,
    respond: (apdu) => {
      if (apdu[1] === 0x2a) throw new Error("card pulled");
      return fromHex("9000");
    },
  });
  await waitForCard(READER0, true);
  const connection = await connectReader(READER0);
  try {
    assertEquals(toHex(await connection.transmit(fromHex("00A4000C"))), "9000");
    await assertRejects(() => connection.transmit(fromHex("002A9E9A00")), CardRemovedError);
    // Once PC/SC has noticed, the handle itself reports the removal.
    await waitForCard(READER0, false);
    const error = await assertRejects(() => connection.transmit(fromHex("00A4000C")), CardRemovedError);
    assertEquals(error.pcscCode, 0x80100069);
  } finally {
    await connection.close();
    await card.close();
  }
});

stackTest("an exclusive connection keeps others out with ReaderBusyError", async () => {
  const card = await plugCard({ atr: V4_ATR });
  await waitForCard(READER0, true);
  const first = await connectReader(READER0, { shareMode: "exclusive" });
  try {
    const error = await assertRejects(() => connectReader(READER0, { context: new PcscContext() }), ReaderBusyError);
    assertEquals(error.pcscCode, 0x8010000b);
  } finally {
    await first.close();
    await card.close();
  }
});

stackTest("a transaction holds the card: another connection's APDU waits until it ends", async () => {
  const card = await plugCard({ atr: V4_ATR });
  await waitForCard(READER0, true);
  const first = await connectReader(READER0);
  const second = await connectReader(READER0, { context: new PcscContext() });
  try {
    const order: string[] = [];
    let waiting: Promise<unknown> = Promise.resolve();
    await second.beginTransaction(); // warm up: the second connection can hold the card too
    await second.endTransaction();
    await first.transaction(async () => {
      await first.transmit(fromHex("00A4000C"));
      order.push("first");
      waiting = second.transaction(() => second.transmit(fromHex("00A4000C"))).then(() => order.push("second"));
      await new Promise((resolve) => setTimeout(resolve, 300));
      order.push("end of transaction");
    });
    await waiting;
    assertEquals(order, ["first", "end of transaction", "second"]);
  } finally {
    await first.close();
    await second.close();
    await card.close();
  }
});

stackTest("watchReaders reports insertion and removal, and stops when the signal aborts", async () => {
  const stop = new AbortController();
  const events: ReaderEvent[] = [];
  const watching = (async () => {
    for await (const event of watchReaders(stop.signal)) events.push(event);
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  const card = await plugCard({ atr: V4_ATR, port: 35964 });
  await waitUntil(() => events.some((e) => e.event === "inserted"));
  await card.close();
  await waitUntil(() => events.some((e) => e.event === "removed"));
  stop.abort();
  await watching;
  assertEquals(events.map((e) => [e.event, e.reader]), [["inserted", READER1], ["removed", READER1]]);
  const inserted = events[0];
  assert(inserted.event === "inserted" && toHex(inserted.atr) === toHex(V4_ATR));
});

stackTest("a long-lived context recovers after pcscd is killed and restarted", async (stack) => {
  const context = new PcscContext();
  assertEquals((await listReaders(context)).length, 2);
  await stack.kill("SIGKILL");
  await assertRejects(() => listReaders(context), NoServiceError);
  await stack.start();
  const readers = await listReaders(context);
  assertEquals(readers.map((r) => r.name), [READER0, READER1]);
  // And a card works through the same context.
  const card = await plugCard({ atr: V4_ATR });
  try {
    await waitForCard(READER0, true);
    const connection = await connectReader(READER0, { context });
    assertEquals(toHex(await connection.transmit(fromHex("00A4000C"))), "9000");
    await connection.close();
  } finally {
    await card.close();
    context.release();
  }
});

stackTest("the watch sees pcscd go and come back as readers removed and added", async (stack) => {
  const stop = new AbortController();
  const events: ReaderEvent[] = [];
  const watching = (async () => {
    for await (const event of watchReaders(stop.signal, { retryMs: 100 })) events.push(event);
  })();
  await new Promise((resolve) => setTimeout(resolve, 300));
  await stack.restart("SIGKILL");
  await waitUntil(() => events.filter((e) => e.event === "reader-added").length === 2);
  stop.abort();
  await watching;
  assertEquals(events.map((e) => e.event), ["reader-removed", "reader-removed", "reader-added", "reader-added"]);
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
