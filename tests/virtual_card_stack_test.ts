/**
 * `kortti virtual-card` through real pcscd + vpcd, seen by OpenSC and kortti: `pkcs15-tool` lists both certificates
 * and both keys of the v3 and v4 profiles with their labels, `opensc-tool --send-apdu` runs the doc's sign sequence
 * by hand (the signature verifies with openssl), `--fail-after` pulls the card mid-sequence, `--state` keeps try
 * counters across restarts, `--blocked` starts blocked, `--trace` shows meanings and never a PIN, Ctrl-C exits 0.
 * Runs only inside the isolation wrapper (tests/run.sh).
 * @module
 */

import { fromHex, toHex } from "../lib/apdu.ts";
import { assert, assertEquals, assertMatch, assertNotMatch } from "./helpers/assert.ts";
import { ROOT } from "./helpers/run_kortti.ts";
import { stackTest, waitForCard } from "./helpers/stack.ts";

const READER = ["Virtual PCD 00 00", "Virtual PCD 00 01"];

interface RunningCard {
  child: Deno.ChildProcess;
  stderr: () => string;
  /** Ctrl-C: resolves with the exit code. */
  interrupt: () => Promise<number>;
}

/** Starts `kortti virtual-card` and waits until PC/SC sees its card (unless told not to wait). */
async function startVirtualCard(args: string[], reader = 0, wait = true): Promise<RunningCard> {
  const child = new Deno.Command(`${ROOT}/kortti`, {
    args: ["virtual-card", "--vpcd", `127.0.0.1:${35963 + reader}`, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const pump = (async () => {
    for await (const chunk of child.stderr) text += decoder.decode(chunk, { stream: true });
  })();
  const running: RunningCard = {
    child,
    stderr: () => text,
    interrupt: async () => {
      try {
        child.kill("SIGINT");
      } catch {
        // already gone
      }
      const status = await child.status;
      await pump;
      return status.code;
    },
  };
  if (wait) {
    try {
      await waitForCard(READER[reader], true, 15_000);
    } catch (error) {
      await running.interrupt();
      throw new Error(`${error}\nkortti virtual-card said:\n${text}`);
    }
  }
  return running;
}

async function tool(command: string, args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(command, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, output: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr) };
}

interface Exchange {
  sw: string;
  data: Uint8Array;
}

/** `opensc-tool --send-apdu` for each APDU, parsed into status words and data. */
async function sendApdus(reader: number, apdus: string[]): Promise<Exchange[]> {
  const { output } = await tool("opensc-tool", ["--reader", String(reader), ...apdus.flatMap((a) => ["-s", a])]);
  const exchanges: Exchange[] = [];
  let current: { sw: string; hex: string } | undefined;
  for (const line of output.split("\n")) {
    const received = /Received \(SW1=0x([0-9A-Fa-f]{2}), SW2=0x([0-9A-Fa-f]{2})\)/.exec(line);
    if (received) {
      if (current) exchanges.push({ sw: current.sw, data: fromHex(current.hex) });
      current = { sw: (received[1] + received[2]).toUpperCase(), hex: "" };
    } else if (current && /^([0-9A-F]{2} )+/.test(line)) {
      current.hex += (line.match(/^((?:[0-9A-F]{2} )+)/)?.[1] ?? "").replace(/ /g, "");
    } else if (line.startsWith("Sending:") && current) {
      exchanges.push({ sw: current.sw, data: fromHex(current.hex) });
      current = undefined;
    }
  }
  if (current) exchanges.push({ sw: current.sw, data: fromHex(current.hex) });
  assertEquals(exchanges.length, apdus.length, output);
  return exchanges;
}

function paddedPin(reference: string, pin: string): string {
  const bytes = new Uint8Array(12);
  bytes.set(new TextEncoder().encode(pin));
  return `002000${reference}0C${toHex(bytes)}`;
}

const SELECT_AID = "00A4040C0CA000000063504B43532D3135";

stackTest(
  "OpenSC pkcs15-tool lists both certificates and keys of v4 and v3 with labels; list-readers names the family",
  async () => {
    const v4 = await startVirtualCard(["--profile", "v4"], 0);
    const v3 = await startVirtualCard(["--profile", "v3"], 1);
    try {
      for (const reader of [0, 1]) {
        const certs = await tool("pkcs15-tool", ["--reader", String(reader), "--list-certificates"]);
        assertEquals(certs.output.match(/X\.509 Certificate \[[^\]]+\]/g)?.length, 2, certs.output);
        assertMatch(certs.output, /X\.509 Certificate \[todentamis- ja salausvarmenne\]/);
        assertMatch(certs.output, /X\.509 Certificate \[allekirjoitusvarmenne\]/);
        assertMatch(certs.output, reader === 0 ? /Path\s+: 3f0050164332/ : /Path\s+: 3f0050164335/);
        const keys = await tool("pkcs15-tool", ["--reader", String(reader), "--list-keys"]);
        assertEquals(keys.output.match(/Private (EC|RSA) Key \[/g)?.length, 2, keys.output);
        assertMatch(keys.output, reader === 0 ? /Private EC Key \[todentamis/ : /Private RSA Key \[todentamis/);
        assertMatch(keys.output, /Key ref\s+: 1 \(0x01\)/);
        assertMatch(keys.output, reader === 0 ? /Key ref\s+: 2 \(0x02\)/ : /Key ref\s+: 3 \(0x03\)/);
      }
      const readers = await tool(`${ROOT}/kortti`, ["list-readers", "--json"]);
      const families = JSON.parse(readers.output).readers.map((r: { card: { family: string } }) => r.card?.family);
      assertEquals(families, ["fineid-v4", "fineid-v3"]);
    } finally {
      assertEquals(await v4.interrupt(), 0, "Ctrl-C removes the card and exits 0");
      assertEquals(await v3.interrupt(), 0);
    }
    await waitForCard(READER[0], false);
  },
);

stackTest(
  "opensc-tool --send-apdu runs the doc's sign sequence by hand; --trace shows meanings, never the PIN",
  async () => {
    const card = await startVirtualCard(["--profile", "v4", "--trace"], 0);
    const dir = await Deno.makeTempDir({ prefix: "kortti-vc-stack-" });
    try {
      const data = new TextEncoder().encode("signed by hand through pcscd\n");
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-384", data));
      const exchanges = await sendApdus(0, [
        SELECT_AID,
        paddedPin("82", "123456"),
        "002241B606800154840102",
        `002A90A03290${toHex(new Uint8Array([0x30, ...digest]))}`,
        "002A9E9A00",
      ]);
      assertEquals(exchanges.map((e) => e.sw), ["9000", "9000", "9000", "9000", "9000"]);
      const raw = exchanges[4].data;
      assertEquals(raw.length, 96);
      const integer = (v: Uint8Array) => {
        let bytes = [...v];
        while (bytes.length > 1 && bytes[0] === 0) bytes = bytes.slice(1);
        if (bytes[0] & 0x80) bytes.unshift(0);
        return [0x02, bytes.length, ...bytes];
      };
      const body = [...integer(raw.subarray(0, 48)), ...integer(raw.subarray(48))];
      await Deno.writeFile(`${dir}/sig`, new Uint8Array([0x30, body.length, ...body]));
      await Deno.writeFile(`${dir}/data`, data);
      await tool("openssl", [
        "x509",
        "-in",
        `${ROOT}/fixtures/pki/v4-sign.pem`,
        "-pubkey",
        "-noout",
        "-out",
        `${dir}/pub`,
      ]);
      const verified = await tool("openssl", [
        "dgst",
        "-sha384",
        "-verify",
        `${dir}/pub`,
        "-signature",
        `${dir}/sig`,
        `${dir}/data`,
      ]);
      assertEquals(verified.output.trim(), "Verified OK");
    } finally {
      assertEquals(await card.interrupt(), 0);
      await Deno.remove(dir, { recursive: true });
    }
    const trace = card.stderr();
    assertMatch(trace, /VERIFY PIN2 \*\*/);
    assertMatch(trace, /MSE:SET DST/);
    assertMatch(trace, /PSO:COMPUTE DIGITAL SIGNATURE/);
    assertNotMatch(trace.replace(/\s/g, ""), /313233343536/, "the PIN's bytes never reach the trace");
  },
);

stackTest(
  "the organisation profile through PC/SC: family dvv-org, OpenSC lists its RSA keys, E.SIGN by name",
  async () => {
    const org = await startVirtualCard(["--profile", "org"], 1);
    try {
      const readers = await tool(`${ROOT}/kortti`, ["list-readers", "--json"]);
      assertEquals(JSON.parse(readers.output).readers[1].card.family, "dvv-org");
      const listed = await tool("pkcs15-tool", ["--reader", "1", "--list-certificates", "--list-keys"]);
      assertEquals(listed.output.match(/X\.509 Certificate \[/g)?.length, 2, listed.output);
      assertEquals(listed.output.match(/Private RSA Key \[/g)?.length, 2, listed.output);
      const esign = toHex(new TextEncoder().encode("E.SIGN"));
      const [probe, select, mse] = await sendApdus(1, ["00200011", `00A4040C06${esign}`, "002241B606800142840182"]);
      assertEquals([probe.sw, select.sw, mse.sw], ["6A88", "9000", "9000"]);
    } finally {
      assertEquals(await org.interrupt(), 0);
    }
  },
);

stackTest("--fail-after pulls the card mid-sequence and the process waits for Ctrl-C", async () => {
  const card = await startVirtualCard(["--profile", "v4", "--fail-after", "60"], 0);
  try {
    // OpenSC's own probing spends most of the 60 APDUs; the sequence runs into the pull.
    const apdus = Array.from({ length: 40 }, () => "00CB00FF05A00383011100");
    await tool("opensc-tool", ["--reader", "0", ...apdus.flatMap((a) => ["-s", a])]);
    await waitForCard(READER[0], false, 5000);
    assertEquals(await Promise.race([card.child.status.then(() => "exited"), sleep(300).then(() => "alive")]), "alive");
  } finally {
    assertEquals(await card.interrupt(), 0);
  }
  assertMatch(card.stderr(), /pulled after 60 APDUs/);
});

stackTest("--state keeps a wrong try across restarts; --blocked starts with the PIN blocked", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-vc-stack-" });
  try {
    const state = `${dir}/card.json`;
    let card = await startVirtualCard(["--profile", "v3", "--state", state], 1);
    const [, wrong] = await sendApdus(1, [SELECT_AID, paddedPin("11", "9999")]);
    assertEquals(wrong.sw, "63C4");
    assertEquals(await card.interrupt(), 0);
    await waitForCard(READER[1], false);
    card = await startVirtualCard(["--profile", "v3", "--state", state], 1);
    const [status] = await sendApdus(1, ["00CB00FF05A00383011100"]);
    assert(toHex(status.data).includes("DF210404"), toHex(status.data));
    assertEquals(await card.interrupt(), 0);
    await waitForCard(READER[1], false);
    card = await startVirtualCard(["--profile", "v3", "--blocked", "sign"], 1);
    const [probe] = await sendApdus(1, ["00200082"]);
    assertEquals(probe.sw, "6983");
    assertEquals(await card.interrupt(), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
