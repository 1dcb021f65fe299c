/**
 * `kortti virtual-card` option handling: malformed options are usage errors (exit 2) with one line on stderr, and no
 * vpcd listening is exit 3 with a hint, never an internal error.
 * @module
 */

import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { runKortti } from "./helpers/run_kortti.ts";

Deno.test("virtual-card: malformed --vpcd, --fail-after, --delay, --blocked and --profile are usage errors", async () => {
  for (
    const args of [
      ["--vpcd", "nohost"],
      ["--vpcd", "127.0.0.1:99999"],
      ["--fail-after", "x"],
      ["--delay", "-5"],
      ["--blocked", "puk"],
      ["--profile", "v5"],
    ]
  ) {
    const run = await runKortti(["virtual-card", ...args]);
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assertMatch(run.stderr, /^kortti: .+\n$/);
  }
});

Deno.test({
  name: "virtual-card: no vpcd listening is exit 3 with what to do",
  ignore: Deno.env.get("KORTTI_TEST_STACK") !== "1", // outside the wrapper a real vpcd may listen on 35963
  fn: async () => {
    const run = await runKortti(["virtual-card", "--vpcd", "127.0.0.1:35963"]);
    assertEquals(run.code, 3, run.stderr);
    assertMatch(run.stderr, /no vpcd reader listens on 127\.0\.0\.1:35963: start pcscd/);
  },
});
