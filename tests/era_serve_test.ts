/**
 * `kortti serve` as a user runs it, with the erasmartcard listener: the port it records for `kortti post-url`
 * (and removes on exit), and a Web eID token through the real pinentry path.
 * @module
 */

import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";

const ORIGIN = "https://rp.example.test";
const FAKE_PINENTRY = "/work/shared/checks/lib/fake-pinentry";

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test({
  name:
    "serve records its erasmartcard port for post-url, answers a Web eID token via pinentry, and forgets the port on exit",
  ignore: !(await Deno.stat(FAKE_PINENTRY).then(() => true, () => false)),
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "kortti-era-serve-" });
    const env = { HOME: home, XDG_DATA_HOME: `${home}/data`, CHECK_PIN: "1234", CHECK_PINENTRY_LOG: `${home}/pin.log` };
    const serve = new Deno.Command(`${ROOT}/kortti`, {
      args: [
        "serve",
        "--virtual-card=v4",
        "--no-scs",
        "--era-port",
        "45678",
        "--allow-origin",
        ORIGIN,
        "--pin-dialog",
        "pinentry",
        "--pinentry",
        FAKE_PINENTRY,
      ],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const recorded = `${home}/data/kortti/era-port`;
    try {
      assertEquals(await waitFor(() => Deno.readTextFile(recorded), "the era-port record"), "45678\n");

      // post-url replaces {PORT} with the running serve's port.
      const received: string[] = [];
      const target = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
        received.push(await request.text());
        return new Response("ok");
      });
      try {
        const run = await runKortti(
          ["post-url", `erasmartcardpost://http://127.0.0.1:${target.addr.port}/PortData?eraScPort={PORT}`],
          { env },
        );
        assertEquals(run.code, 0, run.stderr);
        assertEquals(received, ['{"eraScPort":"45678"}']);
      } finally {
        await target.shutdown();
      }

      // A token through the real PIN dialog path (pinentry over Assuan).
      const ca = await Deno.readTextFile(`${home}/data/kortti/tls/ca.pem`);
      const client = Deno.createHttpClient({ caCerts: [ca] });
      try {
        const challenge = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
        const answer = await waitFor(async () => {
          const response = await fetch("https://localhost:45678/authenticate", {
            method: "POST",
            headers: { Origin: ORIGIN, "Content-Type": "application/json" },
            body: JSON.stringify({ challenge }),
            client,
          });
          return await response.json();
        }, "the listener");
        assertEquals([answer.status, answer.token?.algorithm], ["ok", "ES384"], JSON.stringify(answer));
        const dialog = await Deno.readTextFile(`${home}/pin.log`);
        assertMatch(dialog, /rp\.example\.test/); // the dialog named the origin
        assertMatch(dialog, /log in/); // and said it is a login, not a signature
        assert(!dialog.includes("1234"), "the PIN is never shown in the dialog's texts");
      } finally {
        client.close();
      }
    } finally {
      serve.kill("SIGTERM");
      const status = await serve.status;
      await serve.stderr.cancel();
      assert(status.success || status.signal === null || status.code === 0, `serve ended with ${status.code}`);
    }
    assert(!(await Deno.stat(recorded).then(() => true, () => false)), "the era-port record is removed on exit");
    await Deno.remove(home, { recursive: true });
  },
});
