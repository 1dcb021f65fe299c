/**
 * The few libc socket calls kortti needs and Deno does not expose: finding a TCP socket's file descriptor by its
 * ports (`getsockname`/`getpeername`) and setting `TCP_QUICKACK` on it (`setsockopt`). Linux only; elsewhere
 * `openSocketLibrary` returns undefined.
 *
 * @example
 * ```ts
 * import { openSocketLibrary, TCP_QUICKACK, IPPROTO_TCP } from "./socket.ts";
 * const libc = openSocketLibrary();
 * const one = new Int32Array([1]);
 * libc?.symbols.setsockopt(5, IPPROTO_TCP, TCP_QUICKACK, one, 4);
 * ```
 * @module
 */

/** `IPPROTO_TCP`. */
export const IPPROTO_TCP = 6;
/** `TCP_QUICKACK` (Linux). */
export const TCP_QUICKACK = 12;
/** `AF_INET` and `AF_INET6` on Linux. */
export const AddressFamily = { inet: 2, inet6: 10 } as const;

/** The `Deno.dlopen` symbol table of the libc calls. */
export const SOCKET_SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
} as const;

/** libc's socket calls. */
export type SocketLibrary = Deno.DynamicLibrary<typeof SOCKET_SYMBOLS>;

/** Opens libc's socket calls on Linux; undefined on other systems or when libc cannot be opened. */
export function openSocketLibrary(): SocketLibrary | undefined {
  if (Deno.build.os !== "linux") return undefined;
  try {
    return Deno.dlopen("libc.so.6", SOCKET_SYMBOLS);
  } catch {
    return undefined;
  }
}
