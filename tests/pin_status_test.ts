// `kortti pin-status`: tries left and blocked state of PIN1, PIN2 and PUK (or the organisation card's PINs 03/04/12),
// read without spending a try, in-process and through pcscd + vpcd.

import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { stackTest, waitForCard } from "./helpers/stack.ts";

interface PinStatusOutput {
  reader: string;
  card: { family: string; model: string };
  pins: { name: string; reference: string; triesLeft: number | null; blocked: boolean }[];
}

Deno.test("pin-status --json names each profile's PINs with their references and 5 tries", async () => {
  const references = { v3: ["11", "82", "83"], v4: ["11", "82", "83"], org: ["03", "04", "12"] };
  for (const profile of ["v3", "v4", "org"] as const) {
    {
      const run = await runKortti(["pin-status", `--virtual-card=${profile}`, "--json"]);
      assertEquals(run.code, 0, run.stderr);
      const output = JSON.parse(run.stdout) as PinStatusOutput;
      assertEquals(output.pins, [
        { name: "PIN1", reference: references[profile][0], triesLeft: 5, blocked: false },
        { name: "PIN2", reference: references[profile][1], triesLeft: 5, blocked: false },
        { name: "PUK", reference: references[profile][2], triesLeft: 5, blocked: false },
      ]);
    }
  }
  const human = await runKortti(["pin-status", "--virtual-card"]);
  assertEquals(human.code, 0, human.stderr);
  assertMatch(human.stdout, /PIN1 +11 +5 +ok\nPIN2 +82 +5 +ok\nPUK +83 +5 +ok\n/);
});

stackTest(
  "through pcscd + vpcd: a blocked PIN2 shows as blocked in pin-status and list-certs, without a VERIFY",
  async () => {
    const child = new Deno.Command(`${ROOT}/kortti`, {
      args: ["virtual-card", "--profile", "v4", "--vpcd", "127.0.0.1:35963", "--blocked", "sign"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await waitForCard("Virtual PCD 00 00", true, 10000);
      const run = await runKortti(["pin-status", "--json", "--trace"]);
      assertEquals(run.code, 0, run.stderr);
      const output = JSON.parse(run.stdout) as PinStatusOutput;
      assertEquals(output.card.family, "fineid-v4");
      assertEquals(output.pins.map((p) => [p.name, p.triesLeft, p.blocked]), [
        ["PIN1", 5, false],
        ["PIN2", 0, true],
        ["PUK", 5, false],
      ]);
      // Only GET DATA went to the card: no VERIFY at all.
      assertEquals(run.stderr.split("\n").filter((l) => l.includes("trace: >")).length, 3);
      assertEquals(run.stderr.includes("VERIFY"), false);
      const list = await runKortti(["list-certs", "--key", "sign"]);
      assertEquals(list.code, 0, list.stderr);
      assertMatch(list.stdout, /sign .* PIN2: BLOCKED/);
    } finally {
      child.kill("SIGTERM");
      await child.status;
    }
  },
);
