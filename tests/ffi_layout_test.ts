// The PC/SC struct layouts of every OS, checked against the C headers' numbers even though only Linux runs here.
import { layoutFor, structLayout, symbolDefinitions } from "../ffi/pcsclite.ts";
import { assertEquals } from "./helpers/assert.ts";

Deno.test("Linux pcsc-lite: 8-byte DWORD, SCARD_READERSTATE of 80 bytes at the documented offsets", () => {
  const layout = layoutFor("linux");
  assertEquals(layout.library, "libpcsclite.so.1");
  assertEquals([layout.dwordBytes, layout.handleBytes, layout.handleSigned], [8, 8, true]);
  assertEquals(layout.readerState, {
    size: 80,
    szReader: 0,
    pvUserData: 8,
    dwCurrentState: 16,
    dwEventState: 24,
    cbAtr: 32,
    rgbAtr: 40,
    atrCapacity: 33,
  });
  assertEquals(layout.ioRequest, { size: 16, dwProtocol: 0, cbPciLength: 8 });
  assertEquals(layout.names.getStatusChange, "SCardGetStatusChange");
});

Deno.test("macOS PCSC.framework: 4-byte DWORD and handles, structs packed to 1 byte (61-byte reader state)", () => {
  const layout = layoutFor("darwin");
  assertEquals(layout.library, "/System/Library/Frameworks/PCSC.framework/PCSC");
  assertEquals([layout.dwordBytes, layout.handleBytes, layout.pack], [4, 4, 1]);
  assertEquals(layout.readerState, {
    size: 61,
    szReader: 0,
    pvUserData: 8,
    dwCurrentState: 16,
    dwEventState: 20,
    cbAtr: 24,
    rgbAtr: 28,
    atrCapacity: 33,
  });
  assertEquals(layout.ioRequest, { size: 8, dwProtocol: 0, cbPciLength: 4 });
});

Deno.test("Windows winscard.dll: A names, 4-byte DWORD, pointer-sized handles, 36-byte ATR (64-byte state)", () => {
  const layout = layoutFor("windows");
  assertEquals(layout.library, "winscard.dll");
  assertEquals([layout.dwordBytes, layout.handleBytes, layout.handleSigned], [4, 8, false]);
  assertEquals(layout.names, {
    listReaders: "SCardListReadersA",
    connect: "SCardConnectA",
    status: "SCardStatusA",
    getStatusChange: "SCardGetStatusChangeA",
  });
  assertEquals(layout.readerState, {
    size: 64,
    szReader: 0,
    pvUserData: 8,
    dwCurrentState: 16,
    dwEventState: 20,
    cbAtr: 24,
    rgbAtr: 28,
    atrCapacity: 36,
  });
  assertEquals(layout.ioRequest, { size: 8, dwProtocol: 0, cbPciLength: 4 });
  assertEquals(layout.protocolRaw, 0x10000);
});

Deno.test("structLayout follows C alignment and #pragma pack", () => {
  const fields = [{ name: "c", size: 1, align: 1 }, { name: "d", size: 8, align: 8 }, { name: "i", size: 4, align: 4 }];
  assertEquals(structLayout(fields), { offsets: { c: 0, d: 8, i: 16 }, size: 24 });
  assertEquals(structLayout(fields, 1), { offsets: { c: 0, d: 1, i: 9 }, size: 13 });
  assertEquals(structLayout(fields, 4), { offsets: { c: 0, d: 4, i: 12 }, size: 16 });
});

Deno.test("every call that can wait is nonblocking; DWORD width follows the OS", () => {
  for (const os of ["linux", "darwin", "windows"]) {
    const symbols = symbolDefinitions(layoutFor(os));
    const waiting = [
      "SCardConnect",
      "SCardReconnect",
      "SCardDisconnect",
      "SCardBeginTransaction",
      "SCardEndTransaction",
      "SCardStatus",
      "SCardGetStatusChange",
      "SCardTransmit",
      "SCardGetAttrib",
    ] as const;
    for (const name of waiting) assertEquals(symbols[name].nonblocking, true, `${os} ${name}`);
    assertEquals("nonblocking" in symbols.SCardCancel, false);
    assertEquals(symbols.SCardGetStatusChange.parameters[1], os === "linux" ? "u64" : "u32");
    assertEquals(
      symbols.SCardReleaseContext.parameters[0],
      os === "windows" ? "usize" : os === "linux" ? "i64" : "i32",
    );
  }
});
