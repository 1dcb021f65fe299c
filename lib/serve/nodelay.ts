/**
 * `TCP_NODELAY` for the listeners of `serve`. Deno.serve leaves Nagle's algorithm on for the sockets it accepts;
 * over TLS a response larger than about 1.5 KB goes out as two writes, and the second waits for the client's
 * delayed ACK: about 40 ms added to every `/sign` answer. Linux copies TCP_NODELAY from a listening socket to the
 * sockets it accepts, so setting it on the listener (found by its port through libc, as Deno does not expose the
 * descriptor) removes the stall. Where this cannot be done (other systems, no FFI) nothing changes but latency.
 *
 * @example
 * ```ts
 * import { disableNagle } from "./nodelay.ts";
 * Deno.serve({ port: 53952, hostname: "127.0.0.1", onListen() {} }, () => new Response("hi"));
 * console.log(disableNagle(53952)); // 1 (one listening socket)
 * ```
 * @module
 */

import { AddressFamily, IPPROTO_TCP, openSocketLibrary, type SocketLibrary } from "../../ffi/socket.ts";

/** `TCP_NODELAY`. */
const TCP_NODELAY = 1;

let libc: SocketLibrary | undefined | null = null;

/**
 * Sets TCP_NODELAY on this process's listening sockets on `port`; returns how many were set (0 when not possible).
 *
 * @example
 * ```ts
 * import { disableNagle } from "./nodelay.ts";
 * if (disableNagle(53952) === 0) console.log("responses over TLS may wait for delayed ACKs");
 * ```
 */
export function disableNagle(port: number): number {
  try {
    if (libc === null) libc = openSocketLibrary();
    if (!libc) return 0;
    const address = new Uint8Array(128);
    const length = new Uint32Array(1);
    const one = new Int32Array([1]);
    let count = 0;
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(entry.name);
      if (!Number.isInteger(fd)) continue;
      length[0] = address.length;
      if (libc.symbols.getsockname(fd, address, length) !== 0 || portOf(address) !== port) continue;
      length[0] = address.length;
      if (libc.symbols.getpeername(fd, address, length) === 0) continue; // a connection, not the listener
      if (libc.symbols.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, one, 4) === 0) count++;
    }
    return count;
  } catch {
    return 0; // no FFI or /proc: only latency suffers
  }
}

function portOf(address: Uint8Array): number | undefined {
  const family = address[0] | (address[1] << 8);
  if (family !== AddressFamily.inet && family !== AddressFamily.inet6) return undefined;
  return (address[2] << 8) | address[3];
}
