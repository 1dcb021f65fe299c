/**
 * The raw PC/SC binding over `Deno.dlopen`: pcsc-lite on Linux (and other Unix), `PCSC.framework` on macOS and
 * `winscard.dll` on Windows. It holds the symbol table and the per-OS struct layouts and nothing else; the typed,
 * safe layer is `lib/pcsc/`.
 *
 * The three platforms disagree on the C types: pcsc-lite on 64-bit Linux makes `DWORD`/`LONG` an `unsigned long`
 * (8 bytes) and `SCARDCONTEXT` a `LONG`; macOS makes them 4-byte `uint32_t`/`int32_t` and packs
 * `SCARD_READERSTATE` to 1 byte; Windows has 4-byte `DWORD`/`LONG`, pointer-sized handles and a 36-byte ATR buffer.
 * `layoutFor(os)` gives the table for an OS and `structLayout` derives the offsets from the C rules, so that a unit
 * test can check every OS's table even where only one runs.
 *
 * Every call that may wait on pcscd or on the card is `nonblocking` (returns a Promise): a card simulator running
 * in the same process (vpcd bridge) would otherwise deadlock the event loop.
 *
 * @example
 * ```ts
 * import { layoutFor, openPcscLibrary } from "./pcsclite.ts";
 * const pcsc = openPcscLibrary();
 * const context = new Uint8Array(pcsc.layout.handleBytes);
 * const rc = pcsc.symbols.SCardEstablishContext(2, null, null, context);
 * console.log(layoutFor("darwin").readerState.size, rc); // 61
 * ```
 * @module
 */

/** The operating systems with a PC/SC layout of their own. */
export type PcscOs = "linux" | "darwin" | "windows";

/** Size in bytes of one member of a C struct, and its alignment. */
export interface CField {
  /** Member name, as in the C headers. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Natural alignment in bytes. */
  align: number;
}

/** Offsets of a C struct's members and its total size. */
export interface CStructLayout {
  /** Offset of each member by name. */
  offsets: Record<string, number>;
  /** `sizeof` the struct, trailing padding included. */
  size: number;
}

/**
 * Lays out a C struct the way a C compiler does: each member at the next multiple of min(its alignment, pack),
 * the whole rounded up to the largest such alignment. `pack` is `#pragma pack(n)` (omit it for natural layout).
 *
 * @example
 * ```ts
 * import { structLayout } from "./pcsclite.ts";
 * structLayout([{ name: "a", size: 4, align: 4 }, { name: "b", size: 8, align: 8 }]).size; // 16
 * structLayout([{ name: "a", size: 4, align: 4 }, { name: "b", size: 8, align: 8 }], 1).size; // 12
 * ```
 */
export function structLayout(fields: CField[], pack?: number): CStructLayout {
  const offsets: Record<string, number> = {};
  let at = 0;
  let largest = 1;
  for (const field of fields) {
    const align = pack === undefined ? field.align : Math.min(field.align, pack);
    at = Math.ceil(at / align) * align;
    offsets[field.name] = at;
    at += field.size;
    largest = Math.max(largest, align);
  }
  return { offsets, size: Math.ceil(at / largest) * largest };
}

/** Where each member of `SCARD_READERSTATE` sits, for one OS. */
export interface ReaderStateLayout {
  /** `sizeof(SCARD_READERSTATE)`. */
  size: number;
  /** Offset of `szReader` (the reader name, a C string pointer). */
  szReader: number;
  /** Offset of `pvUserData`. */
  pvUserData: number;
  /** Offset of `dwCurrentState` (what the caller believes). */
  dwCurrentState: number;
  /** Offset of `dwEventState` (what PC/SC reports). */
  dwEventState: number;
  /** Offset of `cbAtr`. */
  cbAtr: number;
  /** Offset of `rgbAtr`. */
  rgbAtr: number;
  /** Capacity of `rgbAtr` (33 on pcsc-lite, 36 on Windows). */
  atrCapacity: number;
}

/** Where each member of `SCARD_IO_REQUEST` sits, for one OS. */
export interface IoRequestLayout {
  /** `sizeof(SCARD_IO_REQUEST)`. */
  size: number;
  /** Offset of `dwProtocol`. */
  dwProtocol: number;
  /** Offset of `cbPciLength`. */
  cbPciLength: number;
}

/** The C ABI of PC/SC on one OS. */
export interface PcscLayout {
  /** Which OS this table is for. */
  os: PcscOs;
  /** The library `Deno.dlopen` opens. */
  library: string;
  /** Bytes of `DWORD` (and of `LONG`, which is the same width everywhere). */
  dwordBytes: 4 | 8;
  /** Bytes of `SCARDCONTEXT` and `SCARDHANDLE`. */
  handleBytes: 4 | 8;
  /** Whether `SCARDCONTEXT` and `SCARDHANDLE` are signed integers (pcsc-lite: `LONG`) or not (Windows). */
  handleSigned: boolean;
  /** `#pragma pack` of the structs, when not natural (macOS: 1). */
  pack?: number;
  /** `SCARD_READERSTATE` (Windows: `SCARD_READERSTATEA`). */
  readerState: ReaderStateLayout;
  /** `SCARD_IO_REQUEST`. */
  ioRequest: IoRequestLayout;
  /** Exported names of the functions that have an ANSI/wide pair on Windows. */
  names: {
    /** `SCardListReaders(A)`. */
    listReaders: string;
    /** `SCardConnect(A)`. */
    connect: string;
    /** `SCardStatus(A)`. */
    status: string;
    /** `SCardGetStatusChange(A)`. */
    getStatusChange: string;
  };
  /** `SCARD_PROTOCOL_RAW`, which differs between pcsc-lite (4) and Windows (0x10000). */
  protocolRaw: number;
}

const POINTER_BYTES = 8;

function readerStateFields(dword: number, atrCapacity: number): CField[] {
  return [
    { name: "szReader", size: POINTER_BYTES, align: POINTER_BYTES },
    { name: "pvUserData", size: POINTER_BYTES, align: POINTER_BYTES },
    { name: "dwCurrentState", size: dword, align: dword },
    { name: "dwEventState", size: dword, align: dword },
    { name: "cbAtr", size: dword, align: dword },
    { name: "rgbAtr", size: atrCapacity, align: 1 },
  ];
}

function buildLayout(
  os: PcscOs,
  library: string,
  dwordBytes: 4 | 8,
  handleBytes: 4 | 8,
  handleSigned: boolean,
  atrCapacity: number,
  pack: number | undefined,
  ansiSuffix: string,
  protocolRaw: number,
): PcscLayout {
  const state = structLayout(readerStateFields(dwordBytes, atrCapacity), pack);
  const io = structLayout([
    { name: "dwProtocol", size: dwordBytes, align: dwordBytes },
    { name: "cbPciLength", size: dwordBytes, align: dwordBytes },
  ], pack);
  return {
    os,
    library,
    dwordBytes,
    handleBytes,
    handleSigned,
    ...(pack === undefined ? {} : { pack }),
    readerState: {
      size: state.size,
      szReader: state.offsets.szReader,
      pvUserData: state.offsets.pvUserData,
      dwCurrentState: state.offsets.dwCurrentState,
      dwEventState: state.offsets.dwEventState,
      cbAtr: state.offsets.cbAtr,
      rgbAtr: state.offsets.rgbAtr,
      atrCapacity,
    },
    ioRequest: { size: io.size, dwProtocol: io.offsets.dwProtocol, cbPciLength: io.offsets.cbPciLength },
    names: {
      listReaders: "SCardListReaders" + ansiSuffix,
      connect: "SCardConnect" + ansiSuffix,
      status: "SCardStatus" + ansiSuffix,
      getStatusChange: "SCardGetStatusChange" + ansiSuffix,
    },
    protocolRaw,
  };
}

/**
 * The PC/SC C ABI of an OS (64-bit builds). Unknown Unix-likes get the pcsc-lite (Linux) table.
 *
 * @example
 * ```ts
 * import { layoutFor } from "./pcsclite.ts";
 * layoutFor("linux").readerState.size; // 80
 * layoutFor("windows").names.connect; // "SCardConnectA"
 * ```
 */
export function layoutFor(os: string = Deno.build.os): PcscLayout {
  switch (os) {
    case "windows":
      return buildLayout("windows", "winscard.dll", 4, 8, false, 36, undefined, "A", 0x10000);
    case "darwin":
      return buildLayout("darwin", "/System/Library/Frameworks/PCSC.framework/PCSC", 4, 4, true, 33, 1, "", 4);
    default:
      return buildLayout("linux", "libpcsclite.so.1", 8, 8, true, 33, undefined, "", 4);
  }
}

/** Deno FFI integer types of one layout: DWORD, LONG and the handle type. */
function nativeTypes(layout: PcscLayout) {
  const dword: "u64" | "u32" = layout.dwordBytes === 8 ? "u64" : "u32";
  const long: "i64" | "i32" = layout.dwordBytes === 8 ? "i64" : "i32";
  const handle: "i64" | "i32" | "usize" = layout.handleSigned ? (layout.handleBytes === 8 ? "i64" : "i32") : "usize";
  return { dword, long, handle };
}

/**
 * The shape of the `Deno.dlopen` symbol table `symbolDefinitions` builds, spelled out so that `PcscSymbols` is a
 * named public type. `"u64" | "u32"` is `DWORD`, `"i64" | "i32"` is `LONG` (both 64-bit on 64-bit pcsc-lite), and
 * `"i64" | "i32" | "usize"` is `SCARDCONTEXT`/`SCARDHANDLE`; `nonblocking` calls run off the JavaScript thread.
 */
export type PcscSymbolDefinitions = {
  readonly SCardEstablishContext: {
    readonly parameters: readonly ["u64" | "u32", "pointer", "pointer", "buffer"];
    readonly result: "i64" | "i32";
  };
  readonly SCardReleaseContext: {
    readonly parameters: readonly ["i64" | "i32" | "usize"];
    readonly result: "i64" | "i32";
  };
  readonly SCardListReaders: {
    readonly name: string;
    readonly parameters: readonly ["i64" | "i32" | "usize", "buffer", "buffer", "buffer"];
    readonly result: "i64" | "i32";
  };
  readonly SCardConnect: {
    readonly name: string;
    readonly parameters: readonly ["i64" | "i32" | "usize", "buffer", "u64" | "u32", "u64" | "u32", "buffer", "buffer"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardReconnect: {
    readonly parameters: readonly ["i64" | "i32" | "usize", "u64" | "u32", "u64" | "u32", "u64" | "u32", "buffer"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardDisconnect: {
    readonly parameters: readonly ["i64" | "i32" | "usize", "u64" | "u32"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardBeginTransaction: {
    readonly parameters: readonly ["i64" | "i32" | "usize"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardEndTransaction: {
    readonly parameters: readonly ["i64" | "i32" | "usize", "u64" | "u32"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardStatus: {
    readonly name: string;
    readonly parameters: readonly [
      "i64" | "i32" | "usize",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardGetStatusChange: {
    readonly name: string;
    readonly parameters: readonly ["i64" | "i32" | "usize", "u64" | "u32", "buffer", "u64" | "u32"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardCancel: {
    readonly parameters: readonly ["i64" | "i32" | "usize"];
    readonly result: "i64" | "i32";
  };
  readonly SCardTransmit: {
    readonly parameters: readonly [
      "i64" | "i32" | "usize",
      "pointer",
      "buffer",
      "u64" | "u32",
      "pointer",
      "buffer",
      "buffer",
    ];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardGetAttrib: {
    readonly parameters: readonly ["i64" | "i32" | "usize", "u64" | "u32", "buffer", "buffer"];
    readonly result: "i64" | "i32";
    readonly nonblocking: true;
  };
  readonly SCardFreeMemory: {
    readonly parameters: readonly ["i64" | "i32" | "usize", "pointer"];
    readonly result: "i64" | "i32";
  };
  readonly g_rgSCardT0Pci: { readonly type: "pointer" };
  readonly g_rgSCardT1Pci: { readonly type: "pointer" };
};

/** The `Deno.dlopen` symbol table for a layout. Output parameters are `buffer`s sized from the layout. */
export function symbolDefinitions(layout: PcscLayout): PcscSymbolDefinitions {
  const { dword, long, handle } = nativeTypes(layout);
  return {
    SCardEstablishContext: { parameters: [dword, "pointer", "pointer", "buffer"], result: long },
    SCardReleaseContext: { parameters: [handle], result: long },
    SCardListReaders: {
      name: layout.names.listReaders,
      parameters: [handle, "buffer", "buffer", "buffer"],
      result: long,
    },
    SCardConnect: {
      name: layout.names.connect,
      parameters: [handle, "buffer", dword, dword, "buffer", "buffer"],
      result: long,
      nonblocking: true,
    },
    SCardReconnect: { parameters: [handle, dword, dword, dword, "buffer"], result: long, nonblocking: true },
    SCardDisconnect: { parameters: [handle, dword], result: long, nonblocking: true },
    SCardBeginTransaction: { parameters: [handle], result: long, nonblocking: true },
    SCardEndTransaction: { parameters: [handle, dword], result: long, nonblocking: true },
    SCardStatus: {
      name: layout.names.status,
      parameters: [handle, "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
      result: long,
      nonblocking: true,
    },
    SCardGetStatusChange: {
      name: layout.names.getStatusChange,
      parameters: [handle, dword, "buffer", dword],
      result: long,
      nonblocking: true,
    },
    SCardCancel: { parameters: [handle], result: long },
    SCardTransmit: {
      parameters: [handle, "pointer", "buffer", dword, "pointer", "buffer", "buffer"],
      result: long,
      nonblocking: true,
    },
    SCardGetAttrib: { parameters: [handle, dword, "buffer", "buffer"], result: long, nonblocking: true },
    SCardFreeMemory: { parameters: [handle, "pointer"], result: long },
    g_rgSCardT0Pci: { type: "pointer" },
    g_rgSCardT1Pci: { type: "pointer" },
  } as const;
}

/** The symbols of an opened PC/SC library. */
export type PcscSymbols = Deno.DynamicLibrary<PcscSymbolDefinitions>["symbols"];

/** An opened PC/SC library with the layout its structs follow. */
export interface PcscLibrary {
  /** The functions and statics. */
  symbols: PcscSymbols;
  /** The struct layout and type widths of this OS. */
  layout: PcscLayout;
  /** Unloads the library. */
  close(): void;
}

/**
 * Opens the PC/SC library of this OS. Throws `Deno.errors.NotFound`-like errors from `Deno.dlopen` when the
 * library is missing; the safe layer turns that into a message.
 *
 * @example
 * ```ts
 * import { openPcscLibrary } from "./pcsclite.ts";
 * const { symbols, layout } = openPcscLibrary();
 * console.log(layout.library, typeof symbols.SCardTransmit);
 * ```
 */
export function openPcscLibrary(layout: PcscLayout = layoutFor()): PcscLibrary {
  const library = Deno.dlopen(layout.library, symbolDefinitions(layout));
  return { symbols: library.symbols, layout, close: () => library.close() };
}

/** `SCARD_SCOPE_*`. */
export const Scope = { user: 0, terminal: 1, system: 2 } as const;

/** `SCARD_SHARE_*`. */
export const ShareMode = { exclusive: 1, shared: 2, direct: 3 } as const;

/** `SCARD_PROTOCOL_*` (RAW differs per OS: see `PcscLayout.protocolRaw`). */
export const Protocol = { undefined: 0, t0: 1, t1: 2, any: 3 } as const;

/** `SCARD_LEAVE_CARD` and friends: what to do with the card on disconnect or end of transaction. */
export const Disposition = { leave: 0, reset: 1, unpower: 2, eject: 3 } as const;

/** `SCARD_STATE_*` bits of `dwCurrentState`/`dwEventState` (the upper 16 bits of the event state count events). */
export const ReaderState = {
  unaware: 0x0000,
  ignore: 0x0001,
  changed: 0x0002,
  unknown: 0x0004,
  unavailable: 0x0008,
  empty: 0x0010,
  present: 0x0020,
  atrMatch: 0x0040,
  exclusive: 0x0080,
  inUse: 0x0100,
  mute: 0x0200,
  unpowered: 0x0400,
} as const;

/** `INFINITE` timeout of SCardGetStatusChange. */
export const INFINITE = 0xffffffff;

/** The reader name that reports readers being added or removed. */
export const PNP_NOTIFICATION = "\\\\?PnP?\\Notification";

/** `SCARD_ATTR_*` identifiers used by kortti. */
export const Attribute = {
  vendorName: 0x00010100,
  vendorIfdType: 0x00010101,
  atrString: 0x00090303,
  deviceFriendlyName: 0x7fff0003,
} as const;

/** PC/SC return codes (the low 32 bits of the `LONG` result). */
export const ReturnCode = {
  SUCCESS: 0x00000000,
  F_INTERNAL_ERROR: 0x80100001,
  E_CANCELLED: 0x80100002,
  E_INVALID_HANDLE: 0x80100003,
  E_INVALID_PARAMETER: 0x80100004,
  E_NO_MEMORY: 0x80100006,
  E_INSUFFICIENT_BUFFER: 0x80100008,
  E_UNKNOWN_READER: 0x80100009,
  E_TIMEOUT: 0x8010000a,
  E_SHARING_VIOLATION: 0x8010000b,
  E_NO_SMARTCARD: 0x8010000c,
  E_UNKNOWN_CARD: 0x8010000d,
  E_PROTO_MISMATCH: 0x8010000f,
  E_NOT_READY: 0x80100010,
  E_INVALID_VALUE: 0x80100011,
  E_SYSTEM_CANCELLED: 0x80100012,
  F_COMM_ERROR: 0x80100013,
  F_UNKNOWN_ERROR: 0x80100014,
  E_NOT_TRANSACTED: 0x80100016,
  E_READER_UNAVAILABLE: 0x80100017,
  E_NO_SERVICE: 0x8010001d,
  E_SERVICE_STOPPED: 0x8010001e,
  E_UNSUPPORTED_FEATURE: 0x80100022,
  E_NO_READERS_AVAILABLE: 0x8010002e,
  W_UNSUPPORTED_CARD: 0x80100065,
  W_UNRESPONSIVE_CARD: 0x80100066,
  W_UNPOWERED_CARD: 0x80100067,
  W_RESET_CARD: 0x80100068,
  W_REMOVED_CARD: 0x80100069,
} as const;
