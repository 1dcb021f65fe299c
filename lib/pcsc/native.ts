/**
 * Small helpers between the raw binding (`ffi/pcsclite.ts`) and the safe layer: the library opened once, return
 * codes as unsigned 32-bit numbers, `DWORD`s and handles read and written at the width of this OS, C strings and
 * multi-strings.
 *
 * @example
 * ```ts
 * import { returnCode, multiString } from "./native.ts";
 * returnCode(-2146435070); // 0x80100002 (SCARD_E_CANCELLED from a 32-bit LONG)
 * multiString(new TextEncoder().encode("A\0B\0\0")); // ["A", "B"]
 * ```
 * @module
 */

import { openPcscLibrary, type PcscLayout, type PcscLibrary } from "../../ffi/pcsclite.ts";
import { ExitCode, PcscError } from "../errors.ts";

/** A `SCARDCONTEXT` or `SCARDHANDLE` as Deno FFI gives and takes it. */
export type NativeHandle = number | bigint;

let opened: PcscLibrary | undefined;

/**
 * The PC/SC library of this OS, opened on first use. Throws a `PcscError` (exit 3) naming the package to install
 * when it is missing.
 *
 * @example
 * ```ts
 * import { pcscLibrary } from "./native.ts";
 * console.log(pcscLibrary().layout.os);
 * ```
 */
export function pcscLibrary(): PcscLibrary {
  if (opened) return opened;
  try {
    opened = openPcscLibrary();
  } catch (error) {
    const os = Deno.build.os;
    throw new PcscError("PCSC_NO_LIBRARY", ExitCode.pcsc, "the PC/SC library could not be loaded", undefined, {
      hint: os === "linux"
        ? "install it with 'sudo apt install pcscd libpcsclite1' (or your distribution's pcsc-lite)"
        : "check that the smart-card service of the system is available",
      cause: error,
    });
  }
  return opened;
}

/** The low 32 bits of a PC/SC `LONG` result, unsigned (`0x8010001D`). */
export function returnCode(result: number | bigint): number {
  if (typeof result === "number") return result >>> 0;
  return Number(BigInt.asUintN(32, result));
}

/** Reads a `DWORD` at `offset` (little-endian, at this OS's width). */
export function readDword(layout: PcscLayout, view: DataView, offset: number): number {
  return layout.dwordBytes === 8 ? Number(view.getBigUint64(offset, true)) : view.getUint32(offset, true);
}

/** Writes a `DWORD` at `offset`, zeroing the upper half where DWORD is 8 bytes. */
export function writeDword(layout: PcscLayout, view: DataView, offset: number, value: number): void {
  view.setUint32(offset, value >>> 0, true);
  if (layout.dwordBytes === 8) view.setUint32(offset + 4, 0, true);
}

/** A buffer holding one `DWORD` with an initial value, for in/out length parameters. */
export function dwordBuffer(layout: PcscLayout, value = 0): Uint8Array<ArrayBuffer> {
  const buffer = new Uint8Array(layout.dwordBytes);
  writeDword(layout, new DataView(buffer.buffer), 0, value);
  return buffer;
}

/** Reads the `DWORD` held by a `dwordBuffer`. */
export function dwordOf(layout: PcscLayout, buffer: Uint8Array): number {
  return readDword(layout, new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength), 0);
}

/** Reads the `SCARDCONTEXT`/`SCARDHANDLE` an output buffer received. */
export function handleOf(layout: PcscLayout, buffer: Uint8Array): NativeHandle {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  if (layout.handleBytes === 4) return layout.handleSigned ? view.getInt32(0, true) : view.getUint32(0, true);
  const value = layout.handleSigned ? view.getBigInt64(0, true) : view.getBigUint64(0, true);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated C string. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = encoder.encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** Splits a PC/SC multi-string (`"A\0B\0\0"`) into its strings. */
export function multiString(bytes: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    if (i === start) break;
    out.push(decoder.decode(bytes.subarray(start, i)));
    start = i + 1;
  }
  return out;
}

/** Decodes a C string held in a buffer, up to its NUL. */
export function fromCString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}
