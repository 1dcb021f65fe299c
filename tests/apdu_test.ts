import { assertEquals, assertNotMatch, assertThrows } from "./helpers/assert.ts";
import { ApduChannel, command, describeCommand, fromHex, parseResponse, redactedHex, toHex } from "../lib/apdu.ts";
import type { Transport } from "../lib/transport.ts";

/** A card that answers from a script of (expected command → response) pairs, in order. */
function scriptedCard(script: [string, string][]): Transport & { sent: string[] } {
  const sent: string[] = [];
  return {
    readerName: "script",
    atr: new Uint8Array([0x3b, 0x00]),
    sent,
    transmit(apdu: Uint8Array) {
      const hex = toHex(apdu);
      sent.push(hex);
      const step = script.shift();
      if (!step) throw new Error(`unexpected command ${hex}`);
      assertEquals(hex, step[0].replace(/\s/g, ""));
      return Promise.resolve(fromHex(step[1]));
    },
    close: () => Promise.resolve(),
  };
}

Deno.test("command() encodes case 1, 2, 3 and 4 APDUs", () => {
  assertEquals(toHex(command(0x00, 0xa4, 0x00, 0x0c)), "00A4000C");
  assertEquals(toHex(command(0x00, 0xb0, 0x01, 0x02, undefined, 0)), "00B0010200");
  assertEquals(toHex(command(0x00, 0xa4, 0x08, 0x0c, fromHex("4331"))), "00A4080C024331");
  assertEquals(toHex(command(0x00, 0xa4, 0x08, 0x04, fromHex("4331"), 0)), "00A40804024331" + "00");
  assertThrows(() => command(0, 0, 0, 0, new Uint8Array(256)), RangeError);
});

Deno.test("parseResponse splits data and status word", () => {
  assertEquals(parseResponse(fromHex("01029000")), { data: fromHex("0102"), sw: 0x9000 });
  assertThrows(() => parseResponse(fromHex("90")), RangeError);
});

Deno.test("fromHex refuses what is not hex", () => {
  assertThrows(() => fromHex("0G"), RangeError);
  assertThrows(() => fromHex("012"), RangeError);
  assertEquals(toHex(fromHex("3B 7F:96")), "3B7F96");
});

Deno.test("61xx is fetched with GET RESPONSE and the parts are joined", async () => {
  const card = scriptedCard([
    ["00B0000000", "AABB6103"],
    ["00C0000003", "CCDDEE9000"],
  ]);
  const channel = new ApduChannel(card);
  const response = await channel.send(command(0x00, 0xb0, 0x00, 0x00, undefined, 0));
  assertEquals(toHex(response.data), "AABBCCDDEE");
  assertEquals(response.sw, 0x9000);
  assertEquals(channel.count, 2);
});

Deno.test("6Cxx re-sends the command with the Le the card asked for", async () => {
  const card = scriptedCard([
    ["00CB00FF05A00383011100", "6C05"],
    ["00CB00FF05A00383011105", "01020304059000"],
  ]);
  const channel = new ApduChannel(card);
  const response = await channel.send(fromHex("00CB00FF05A00383011100"));
  assertEquals(toHex(response.data), "0102030405");
  assertEquals(channel.count, 2);
});

Deno.test("the trace names each command and never shows PIN bytes", async () => {
  const lines: string[] = [];
  const card = scriptedCard([
    ["002000820C313233343536000000000000", "9000"],
    ["00A40804045016433200", "620481020400" + "9000"],
  ]);
  const channel = new ApduChannel(card, { trace: (line) => lines.push(line) });
  await channel.send(fromHex("002000820C313233343536000000000000"));
  await channel.send(fromHex("00A40804045016433200"));
  const text = lines.join("\n");
  assertNotMatch(text, /31 32 33 34|313233/);
  assertEquals(lines[0].startsWith("> 00 20 00 82 0C **"), true);
  assertEquals(lines[0].includes("VERIFY PIN2 **"), true);
  assertEquals(lines[2].includes("SELECT FILE 5016/4332"), true);
});

Deno.test("redaction covers CHANGE REFERENCE DATA and RESET RETRY COUNTER too", () => {
  assertEquals(redactedHex(fromHex("002400110831323334353637380000")), "00 24 00 11 08 **");
  assertEquals(redactedHex(fromHex("002C0082083132333435363738")), "00 2C 00 82 08 **");
  assertEquals(describeCommand(fromHex("0020001100")), "VERIFY PIN1 (status)");
  assertEquals(describeCommand(fromHex("002A9E9A00")), "PSO:COMPUTE DIGITAL SIGNATURE");
  assertEquals(describeCommand(fromHex("00A4040C0CA000000063504B43532D3135")).startsWith("SELECT AID A000"), true);
});
