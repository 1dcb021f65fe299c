// `kortti list-readers` as a user runs it, against a private pcscd + vpcd (docs/cli.md: JSON shape, exit 3 without
// service or reader, --watch events until SIGINT).
import { fromHex, toHex } from "../lib/apdu.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { TABLE_ATRS } from "./helpers/atrs.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { plugCard, STACK_AVAILABLE, stackTest, waitForCard } from "./helpers/stack.ts";

Deno.test({
  name: "without pcscd, list-readers exits 3 and says to start it (human and JSON)",
  ignore: !STACK_AVAILABLE, // only in the private namespace is it certain that no pcscd runs
  fn: async () => {
    const human = await runKortti(["list-readers"]);
    assertEquals(human.code, 3);
    assertMatch(human.stderr, /^kortti: the PC\/SC service is not running: .*sudo systemctl start pcscd.*\n$/);
    const json = await runKortti(["list-readers", "--json"]);
    assertEquals(json.code, 3);
    assertEquals(json.stdout, "");
    const error = JSON.parse(json.stderr).error;
    assertEquals([error.code, error.exitCode, error.pcscCode], ["PCSC_NO_SERVICE", 3, "0x8010001D"]);
  },
});

Deno.test({
  name: "with pcscd but no reader, list-readers exits 3 and says to plug one in",
  ignore: !STACK_AVAILABLE,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const emptyConfig = await Deno.makeTempDir();
    const pcscd = new Deno.Command("pcscd", {
      args: ["--foreground", "-c", emptyConfig],
      stdout: "null",
      stderr: "null",
    })
      .spawn();
    try {
      let result = await runKortti(["list-readers"]);
      for (let i = 0; i < 40 && result.stderr.includes("not running"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        result = await runKortti(["list-readers"]);
      }
      assertEquals(result.code, 3);
      assertMatch(result.stderr, /no smart-card reader found: plug in a reader/);
    } finally {
      pcscd.kill("SIGTERM");
      await pcscd.status;
      await Deno.remove(emptyConfig, { recursive: true });
    }
  },
});

stackTest("list-readers --json lists both vpcd readers without a card, as docs/cli.md shows", async () => {
  const { code, stdout } = await runKortti(["list-readers", "--json"]);
  assertEquals(code, 0);
  assertEquals(JSON.parse(stdout), {
    readers: [
      { index: 0, name: "Virtual PCD 00 00", cardPresent: false, atr: null, card: null },
      { index: 1, name: "Virtual PCD 00 01", cardPresent: false, atr: null, card: null },
    ],
  });
  const human = await runKortti(["list-readers"]);
  assertEquals(human.code, 0);
  assertMatch(human.stdout, /^#\s+READER\s+CARD/);
  assertMatch(human.stdout, /\n0\s+Virtual PCD 00 00\s+no\n1\s+Virtual PCD 00 01\s+no\n$/);
});

stackTest("a card inserted shows its ATR, family and model, for every ATR of the table", async () => {
  for (let i = 0; i < TABLE_ATRS.length; i += 2) {
    const pair = TABLE_ATRS.slice(i, i + 2);
    const cards = await Promise.all(pair.map(([hex], j) => plugCard({ atr: fromHex(hex), port: 35963 + j })));
    try {
      await Promise.all(cards.map((card) => waitForCard(card.reader, true)));
      const { code, stdout, stderr } = await runKortti(["list-readers", "--json"]);
      assertEquals(code, 0, stderr);
      const readers = JSON.parse(stdout).readers;
      pair.forEach(([hex, family, model], j) => {
        assertEquals(readers[j], {
          index: j,
          name: cards[j].reader,
          cardPresent: true,
          atr: toHex(fromHex(hex)),
          card: { family, model },
        });
      });
      if (i === 0) {
        const human = await runKortti(["list-readers"]);
        assertMatch(human.stdout, /0\s+Virtual PCD 00 00\s+yes\s+fineid-v3\s+Gemalto MultiApp v3.0\s+3B7F96/);
      }
    } finally {
      await Promise.all(cards.map((card) => card.close()));
      await Promise.all(cards.map((card) => waitForCard(card.reader, false)));
    }
  }
});

stackTest(
  "list-readers --watch --json prints insertion and removal, one JSON per line, and exits 0 on SIGINT",
  async () => {
    const child = new Deno.Command(`${ROOT}/kortti`, {
      args: ["list-readers", "--watch", "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    const reading = (async () => {
      let buffered = "";
      for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const parts = buffered.split("\n");
        buffered = parts.pop() ?? "";
        lines.push(...parts);
      }
    })();
    const until = async (count: number) => {
      const deadline = Date.now() + 8000;
      while (lines.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      assert(lines.length >= count, `expected ${count} lines, got ${JSON.stringify(lines)}`);
    };
    try {
      // The watch takes its first look at the readers right after start-up; give it that time.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const v4 = "3B7F9600008031B865B0850500111224" + "60829000";
      const card = await plugCard({ atr: fromHex(v4), port: 35964 });
      await until(1);
      await card.close();
      await until(2);
      child.kill("SIGINT");
      const status = await child.status;
      await reading;
      const stderr = await new Response(child.stderr).text();
      assertEquals(status.code, 0, stderr);
      assertEquals(lines.map((line) => JSON.parse(line)), [
        {
          event: "inserted",
          reader: "Virtual PCD 00 01",
          atr: v4,
          card: { family: "fineid-v4", model: "Thales MultiApp 5.0" },
        },
        { event: "removed", reader: "Virtual PCD 00 01" },
      ]);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
    }
  },
);
