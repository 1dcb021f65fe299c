// The card side of the vpcd protocol against a loopback server that speaks as vpcd does (2-byte length frames,
// control bytes, APDUs), and the socket look-up behind the TCP_QUICKACK fix.
import { connectToVpcd, findSocketDescriptor, type VpcdCard } from "../lib/virtual-card/vpcd.ts";
import { fromHex, toHex } from "../lib/apdu.ts";
import { assert, assertEquals } from "./helpers/assert.ts";

/** Plays vpcd: accepts one card connection and sends/reads frames. */
async function withFakeVpcd(fn: (vpcd: FakeVpcd, port: number) => Promise<void>): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = listener.accept();
  try {
    await fn(new FakeVpcd(accepted), port);
  } finally {
    listener.close();
    (await accepted.catch(() => undefined))?.close();
  }
}

class FakeVpcd {
  #connection: Promise<Deno.Conn>;
  #pending = new Uint8Array(0);
  constructor(connection: Promise<Deno.Conn>) {
    this.#connection = connection;
  }
  async send(payload: Uint8Array): Promise<void> {
    const frame = new Uint8Array(2 + payload.length);
    frame.set([payload.length >> 8, payload.length & 0xff]);
    frame.set(payload, 2);
    // As vpcd does: the length and the payload in two writes.
    const connection = await this.#connection;
    await connection.write(frame.subarray(0, 2));
    await connection.write(frame.subarray(2));
  }
  /** The next frame's payload, or null when the card side closed. */
  async receive(): Promise<Uint8Array | null> {
    const connection = await this.#connection;
    const chunk = new Uint8Array(4096);
    while (this.#pending.length < 2 || this.#pending.length < 2 + ((this.#pending[0] << 8) | this.#pending[1])) {
      const read = await connection.read(chunk);
      if (read === null) return null;
      const joined = new Uint8Array(this.#pending.length + read);
      joined.set(this.#pending);
      joined.set(chunk.subarray(0, read), this.#pending.length);
      this.#pending = joined;
    }
    const length = (this.#pending[0] << 8) | this.#pending[1];
    const payload = this.#pending.slice(2, 2 + length);
    this.#pending = this.#pending.slice(2 + length);
    return payload;
  }
}

const ATR = fromHex("3B7F9600008031B865B085050011122460829000");

Deno.test("vpcd bridge: get-ATR is answered, control bytes reach the card, APDUs are answered in one frame", async () => {
  const calls: string[] = [];
  const card: VpcdCard = {
    atr: () => ATR,
    transmit: (apdu) => {
      calls.push(toHex(apdu));
      return Promise.resolve(fromHex("6F00 9000"));
    },
    powerOff: () => calls.push("off"),
    powerOn: () => calls.push("on"),
    reset: () => calls.push("reset"),
  };
  await withFakeVpcd(async (vpcd, port) => {
    const connection = await connectToVpcd(card, { host: "127.0.0.1", port });
    await vpcd.send(new Uint8Array([0x04]));
    assertEquals(toHex((await vpcd.receive())!), toHex(ATR));
    for (const control of [0x00, 0x01, 0x02]) await vpcd.send(new Uint8Array([control]));
    await vpcd.send(fromHex("00A4040C0CA000000063504B43532D3135"));
    assertEquals(toHex((await vpcd.receive())!), "6F009000");
    assertEquals(calls, ["off", "on", "reset", "00A4040C0CA000000063504B43532D3135"]);
    // A long APDU split across reads still arrives whole.
    const long = new Uint8Array(260).fill(0x41);
    long.set([0x00, 0xd6, 0x00, 0x00, 0xff]);
    await vpcd.send(long);
    assertEquals(toHex((await vpcd.receive())!), "6F009000");
    assertEquals(calls.at(-1), toHex(long));
    await connection.close();
    assertEquals(await vpcd.receive(), null);
  });
});

Deno.test("vpcd bridge: a card whose transmit throws is pulled (the socket closes)", async () => {
  const card: VpcdCard = { atr: () => ATR, transmit: () => Promise.reject(new Error("card pulled")) };
  await withFakeVpcd(async (vpcd, port) => {
    const connection = await connectToVpcd(card, { host: "127.0.0.1", port });
    await vpcd.send(fromHex("0020008200"));
    assertEquals(await vpcd.receive(), null);
    await connection.closed;
  });
});

Deno.test("vpcd bridge: the socket of a Deno TCP connection is found by its ports (for TCP_QUICKACK)", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepted = listener.accept();
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  const server = await accepted;
  try {
    const fd = findSocketDescriptor(client.localAddr.port, port);
    if (Deno.build.os === "linux") assert(fd !== undefined && fd > 2, `fd ${fd}`);
    // The server's end is a different socket.
    assert(findSocketDescriptor(port, client.localAddr.port) !== fd);
    assertEquals(findSocketDescriptor(1, 2), undefined);
  } finally {
    client.close();
    server.close();
    listener.close();
  }
});
