/**
 * The card side of vsmartcard's vpcd protocol: a card "inserted" into a vpcd reader is a TCP connection to its
 * port (35963 for `Virtual PCD 00 00`, 35964 for `00 01`); closing it pulls the card. Every frame both ways is a
 * 2-byte big-endian length and a payload. A 1-byte payload is a control byte (00 power off, 01 power on, 02 reset,
 * 04 get ATR: only the last is answered, with the ATR); a longer one is a command APDU, answered with one frame
 * holding the response APDU.
 *
 * vpcd writes the length and the payload as two TCP segments, so with delayed ACKs every APDU costs ~40 ms. Setting
 * `TCP_QUICKACK` on our socket after every read brings that under a millisecond; Deno does not expose the socket's
 * descriptor, so it is found through libc by its ports (Linux only; elsewhere the bridge works, slower).
 *
 * @example
 * ```ts
 * import { connectToVpcd } from "./vpcd.ts";
 * const card = {
 *   atr: () => new Uint8Array([0x3b, 0x00]),
 *   transmit: () => Promise.resolve(new Uint8Array([0x90, 0x00])),
 * };
 * const connection = await connectToVpcd(card, { host: "127.0.0.1", port: 35963 });
 * setTimeout(() => connection.close(), 5000); // pull the card after 5 s
 * await connection.closed;
 * ```
 * @module
 */

import { AddressFamily, IPPROTO_TCP, openSocketLibrary, type SocketLibrary, TCP_QUICKACK } from "../../ffi/socket.ts";

/** What vpcd talks to: a card. */
export interface VpcdCard {
  /** The answer to reset. */
  atr(): Uint8Array;
  /** Answers one command APDU with a response APDU (data + SW1 SW2). Throwing pulls the card. */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /** The reader powered the card off. */
  powerOff?(): void;
  /** The reader powered the card on. */
  powerOn?(): void;
  /** The reader reset the card (warm reset). */
  reset?(): void;
}

/** A card plugged into vpcd. */
export interface VpcdConnection {
  /** Resolves when the card is out: closed by us, by vpcd, or because `transmit` threw. */
  closed: Promise<void>;
  /** Pulls the card. */
  close(): Promise<void>;
}

const CONTROL = { powerOff: 0x00, powerOn: 0x01, reset: 0x02, getAtr: 0x04 } as const;

let libc: SocketLibrary | undefined | null = null;

function socketLibrary(): SocketLibrary | undefined {
  if (libc === null) libc = openSocketLibrary();
  return libc;
}

function portOf(address: Uint8Array): number | undefined {
  const family = address[0] | (address[1] << 8);
  if (family !== AddressFamily.inet && family !== AddressFamily.inet6) return undefined;
  return (address[2] << 8) | address[3];
}

function candidateDescriptors(): number[] {
  try {
    return [...Deno.readDirSync("/proc/self/fd")].map((entry) => Number(entry.name)).filter(Number.isInteger);
  } catch {
    return Array.from({ length: 1024 }, (_, i) => i);
  }
}

/**
 * The file descriptor of the TCP socket with these local and remote ports, found through libc; undefined when it
 * cannot be found (other OS, no FFI permission).
 */
export function findSocketDescriptor(localPort: number, remotePort: number): number | undefined {
  const lib = socketLibrary();
  if (!lib) return undefined;
  const address = new Uint8Array(128);
  const length = new Uint32Array(1);
  for (const fd of candidateDescriptors()) {
    length[0] = address.length;
    if (lib.symbols.getsockname(fd, address, length) !== 0 || portOf(address) !== localPort) continue;
    length[0] = address.length;
    if (lib.symbols.getpeername(fd, address, length) !== 0 || portOf(address) !== remotePort) continue;
    return fd;
  }
  return undefined;
}

/** A function setting `TCP_QUICKACK` on the connection's socket, or a no-op when the socket cannot be found. */
function quickAckSetter(connection: Deno.TcpConn): () => void {
  let fd: number | undefined;
  try {
    fd = findSocketDescriptor(connection.localAddr.port, connection.remoteAddr.port);
  } catch {
    fd = undefined;
  }
  const lib = socketLibrary();
  if (fd === undefined || !lib) return () => {};
  const one = new Int32Array([1]);
  const descriptor = fd;
  return () => {
    lib.symbols.setsockopt(descriptor, IPPROTO_TCP, TCP_QUICKACK, one, 4);
  };
}

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + 2);
  out[0] = payload.length >> 8;
  out[1] = payload.length & 0xff;
  out.set(payload, 2);
  return out;
}

async function writeAll(connection: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await connection.write(bytes.subarray(at));
}

async function serve(connection: Deno.TcpConn, card: VpcdCard, quickAck: () => void): Promise<void> {
  const chunk = new Uint8Array(65536 + 2);
  let pending = new Uint8Array(0);
  try {
    while (true) {
      const read = await connection.read(chunk);
      if (read === null) return;
      quickAck();
      const joined = new Uint8Array(pending.length + read);
      joined.set(pending);
      joined.set(chunk.subarray(0, read), pending.length);
      pending = joined;
      while (pending.length >= 2) {
        const length = (pending[0] << 8) | pending[1];
        if (pending.length < 2 + length) break;
        const payload = pending.slice(2, 2 + length);
        pending = pending.slice(2 + length);
        if (payload.length === 1) {
          switch (payload[0]) {
            case CONTROL.getAtr:
              await writeAll(connection, frame(card.atr()));
              break;
            case CONTROL.powerOff:
              card.powerOff?.();
              break;
            case CONTROL.powerOn:
              card.powerOn?.();
              break;
            case CONTROL.reset:
              card.reset?.();
              break;
          }
        } else if (payload.length > 1) {
          await writeAll(connection, frame(await card.transmit(payload)));
        }
      }
    }
  } catch {
    // A throwing card, or the socket closed under us: either way the card is out.
  } finally {
    try {
      connection.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Plugs `card` into the vpcd reader listening on `host:port` (vpcd sees it within about 0.4 s). Rejects when vpcd
 * is not listening (pcscd not running or not configured for vpcd).
 *
 * @example
 * ```ts
 * import { connectToVpcd } from "./vpcd.ts";
 * const atr = new Uint8Array([0x3b, 0x7f, 0x96, 0x00]);
 * const c = await connectToVpcd({ atr: () => atr, transmit: async () => new Uint8Array([0x6d, 0x00]) }, {
 *   host: "127.0.0.1",
 *   port: 35964,
 * });
 * await c.close();
 * ```
 */
export async function connectToVpcd(
  card: VpcdCard,
  options: {
    /** vpcd's host, e.g. `127.0.0.1`. */
    host: string;
    /** vpcd's port: 35963 for `Virtual PCD 00 00`, 35964 for `00 01`. */
    port: number;
    /** Set TCP_QUICKACK (default true; false only to measure the delayed-ACK cost). */
    quickAck?: boolean;
  },
): Promise<VpcdConnection> {
  const connection = await Deno.connect({ hostname: options.host, port: options.port, transport: "tcp" });
  connection.setNoDelay(true);
  const closed = serve(connection, card, options.quickAck === false ? () => {} : quickAckSetter(connection));
  return {
    closed,
    close: async () => {
      try {
        connection.close();
      } catch {
        // already closed
      }
      await closed;
    },
  };
}
