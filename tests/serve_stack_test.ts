/**
 * `kortti serve` through the real PC/SC stack (private pcscd + vpcd, the virtual card plugged in by
 * `kortti virtual-card --vpcd`): the card pulled right after the PIN was entered answers 500 naming the removal, and
 * the next request after reinsertion works; after pcscd restarts, the next request works again.
 */

import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT } from "./helpers/run_kortti.ts";
import { b64, startServe } from "./helpers/serve.ts";
import { stackTest, waitForCard } from "./helpers/stack.ts";

const ORIGIN = "https://stack.example.test";
const READER = "Virtual PCD 00 00";

async function plug(pidFile: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(`${ROOT}/kortti`, {
    args: ["virtual-card", "--profile", "v4", "--vpcd", "127.0.0.1:35963"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await Deno.writeTextFile(pidFile, String(child.pid));
  await waitForCard(READER, true, 10_000);
  return child;
}

async function unplug(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* already gone */ }
  await child.status;
  await waitForCard(READER, false, 5000).catch(() => undefined);
}

stackTest(
  "serve over PC/SC: card pulled mid-signature answers 500, reinsertion and pcscd restart recover",
  async (stack) => {
    const dir = await Deno.makeTempDir({ prefix: "kortti-serve-stack-" });
    const pidFile = `${dir}/card.pid`, pullFlag = `${dir}/pull`;
    let card = await plug(pidFile);
    // When asked, the "person" enters the PIN, and, if told to, the card is pulled at that very moment.
    const onGetPin = [
      `if os.path.exists(${JSON.stringify(pullFlag)}):`,
      `    os.remove(${JSON.stringify(pullFlag)})`,
      `    os.kill(int(open(${JSON.stringify(pidFile)}).read()), 9)`,
      `    import time; time.sleep(0.5)`,
    ].join("\n");
    const serve = await startServe({
      profile: null,
      args: ["--reader", "0"],
      origins: [ORIGIN],
      port: 53966,
      onGetPin,
    });
    const request = {
      version: "1.1",
      selector: { keyusages: ["nonrepudiation"] },
      content: b64("through the stack"),
      contentType: "data",
      hashAlgorithm: "SHA384",
      signatureType: "cms",
    };
    try {
      const first = await serve.request("/sign", { body: request });
      assertEquals(first.json.status, "ok", JSON.stringify(first.json));

      await Deno.writeTextFile(pullFlag, "");
      const pulled = await serve.request("/sign", { body: request });
      assertEquals(pulled.json.reasonCode, 500, JSON.stringify(pulled.json));
      assertMatch(pulled.json.reasonText, /card was removed|no card/i, pulled.json.reasonText);
      await card.status;

      card = await plug(pidFile);
      const back = await serve.request("/sign", { body: request });
      assertEquals(back.json.status, "ok", `after reinsertion: ${JSON.stringify(back.json)}`);

      await unplug(card);
      await stack.restart();
      card = await plug(pidFile);
      const restarted = await serve.request("/sign", { body: request });
      assertEquals(restarted.json.status, "ok", `after a pcscd restart: ${JSON.stringify(restarted.json)}`);
      assertEquals(await serve.stop(), 0);
    } finally {
      await serve.stop().catch(() => {});
      await unplug(card);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
    }
  },
);
