import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { VERSION } from "../lib/version.ts";

Deno.test("--version prints kortti's version and the Deno it runs on", async () => {
  const run = await runKortti(["--version"]);
  assertEquals(run.code, 0);
  assertMatch(run.stdout, new RegExp(`^kortti ${VERSION.replace(/\./g, "\\.")} \\(Deno 2\\.9\\.\\d+\\)\\n$`));
});

Deno.test("the version in lib/version.ts is deno.json's", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  assertEquals(VERSION, config.version);
});

Deno.test("an unknown option exits 2 with one line saying what to do", async () => {
  const run = await runKortti(["list-readers", "--no-such-option"]);
  assertEquals(run.code, 2);
  assertEquals(run.stderr.trim().split("\n").length, 1);
  assertMatch(run.stderr, /^kortti: unknown option '--no-such-option': see 'kortti list-readers --help'\n$/);
});

Deno.test("under --json a usage error is a JSON object on stderr", async () => {
  const run = await runKortti(["list-readers", "--json", "--bogus"]);
  assertEquals(run.code, 2);
  const parsed = JSON.parse(run.stderr);
  assertEquals(parsed.error.code, "USAGE");
  assertEquals(parsed.error.exitCode, 2);
  assertMatch(parsed.error.message, /--bogus/);
});

Deno.test("an unknown command exits 2", async () => {
  const run = await runKortti(["no-such-command"]);
  assertEquals(run.code, 2);
  assertMatch(run.stderr, /^kortti: /);
});

Deno.test("every command's --help shows an example", async () => {
  for (
    const command of [
      "list-readers",
      "list-certs",
      "pin-status",
      "sign",
      "verify",
      "serve",
      "post-url",
      "virtual-card",
    ]
  ) {
    const run = await runKortti([command, "--help"]);
    assertEquals(run.code, 0, `${command} --help: ${run.stderr}`);
    assertMatch(run.stdout, /Example/, `${command} --help has no example`);
  }
});

Deno.test("the launcher grants only the permissions kortti documents, never --allow-all", async () => {
  const launcher = await Deno.readTextFile(`${ROOT}/kortti`);
  assert(!/--allow-all|\s-A\s/.test(launcher));
  for (const flag of ["--allow-ffi", "--allow-read", "--allow-write", "--allow-env", "--allow-net", "--allow-run"]) {
    assert(launcher.includes(flag), flag);
  }
});
