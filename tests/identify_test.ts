// ATR parsing (ISO 7816-3) and card identification against the table of docs/fineid-cards.md.
import { identifyAtr, parseAtr } from "../lib/card/identify.ts";
import { fromHex } from "../lib/apdu.ts";
import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";
import { contactlessAtr, TABLE_ATRS } from "./helpers/atrs.ts";

Deno.test("each ATR of the table gives its family and model", () => {
  for (const [hex, family, model] of TABLE_ATRS) assertEquals(identifyAtr(fromHex(hex)), { family, model }, hex);
});

Deno.test("each ATR of the table parses per ISO 7816-3 with a consistent TCK", () => {
  for (const [hex] of TABLE_ATRS) {
    const parsed = parseAtr(fromHex(hex));
    assert(parsed.tckValid, hex);
    assertEquals(parsed.ts, 0x3b);
  }
  const v4 = parseAtr(fromHex(TABLE_ATRS[2][0]));
  assertEquals(v4.interfaceBytes, [{ ta: 0x96, tb: 0x00, tc: 0x00 }]);
  assertEquals(v4.protocols, [0]);
  assertEquals(v4.historical.length, 15);
  assertEquals(v4.tck, undefined);
  const org = parseAtr(fromHex(TABLE_ATRS[4][0]));
  assertEquals(org.interfaceBytes, [{ ta: 0x96, tc: 0x00, td: 0x80 }, { td: 0x31 }, { ta: 0xfe, tb: 0x45 }]);
  assertEquals(org.protocols, [0, 1]);
  assertEquals(org.tck, 0x49);
});

Deno.test("contactless ATRs synthesised from the same historical bytes identify the same card", () => {
  for (const [hex, family, model] of TABLE_ATRS) {
    const contactless = contactlessAtr(parseAtr(fromHex(hex)).historical);
    assert(parseAtr(contactless).tckValid);
    assertEquals(identifyAtr(contactless), { family, model }, hex);
  }
});

Deno.test("Thales family revisions are matched with ATR bytes 12-13 ignored", () => {
  assertEquals(identifyAtr(fromHex("3B7F96000080 31B865B085 05ABCD1224 60829000")), {
    family: "fineid-v4",
    model: "Thales MultiApp (FINEID v4)",
  });
  assertEquals(identifyAtr(fromHex("3B7F96000080 31B865B085 04FFFF1200F6 829000")).family, "fineid-v3");
  // Byte 14 is not ignored: a different product.
  assertEquals(identifyAtr(fromHex("3B7F96000080 31B865B085 0500111324 60829000")).family, "unknown");
});

Deno.test("other cards and garbage are unknown, never an exception", () => {
  const unknown = { family: "unknown", model: "unknown" };
  for (
    const hex of [
      "",
      "3B",
      "00112233",
      "3B7F9600", // cut short
      "3B02 1415", // a plain card
      "3B8F8001 804F0CA000000306 03000100000000 6A", // a MIFARE Classic (storage card)
      "3F0000",
    ]
  ) {
    assertEquals(identifyAtr(fromHex(hex)), unknown, hex);
  }
  assertEquals(identifyAtr(fromHex("3BDD96008031FE450031B8640429ECC17394018083")), unknown); // TCK missing
  assertEquals(identifyAtr(fromHex("3B7F96000080 31B865B085 0500111224 6082900000")), unknown); // trailing byte
  assertThrows(() => parseAtr(fromHex("12 34")), RangeError, /TS/);
});
