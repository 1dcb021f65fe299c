/**
 * `kortti post-url --register / --unregister` in a temporary HOME: the XDG desktop entry, and the default handler
 * as `xdg-mime` itself reports it.
 * @module
 */

import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { desktopEntry, quoteExecArgument } from "../lib/url-handler.ts";

const hasXdgMime = await new Deno.Command("sh", { args: ["-c", "command -v xdg-mime"], stdout: "null" }).output()
  .then((o) => o.success);

async function queryDefault(env: Record<string, string>): Promise<string> {
  const output = await new Deno.Command("xdg-mime", {
    args: ["query", "default", "x-scheme-handler/erasmartcardpost"],
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(output.stdout).trim();
}

Deno.test({
  name: "register writes the desktop entry, xdg-mime reports kortti as the default; unregister undoes both",
  ignore: !hasXdgMime,
  fn: async () => {
    const home = await Deno.makeTempDir({ prefix: "kortti-home-" });
    try {
      // No XDG_* variables: kortti and xdg-mime must both fall back to ~/.local/share and ~/.config.
      const env = { HOME: home, PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
      assertEquals(await queryDefault(env), "");

      const registered = await runKortti(["post-url", "--register"], { env });
      assertEquals(registered.code, 0, registered.stderr);
      assertMatch(registered.stdout, /made it the default handler with xdg-mime/);
      const file = `${home}/.local/share/applications/kortti-erasmartcardpost.desktop`;
      const entry = await Deno.readTextFile(file);
      assertMatch(entry, /^MimeType=x-scheme-handler\/erasmartcardpost;$/m);
      assertEquals(entry.match(/^Exec=(.*)$/m)?.[1], `${ROOT}/kortti post-url %u`);
      assertEquals(await queryDefault(env), "kortti-erasmartcardpost.desktop");
      assertMatch(await Deno.readTextFile(`${home}/.config/mimeapps.list`), /erasmartcardpost=kortti-erasmartcardpost/);

      const again = await runKortti(["post-url", "--register"], { env });
      assertEquals(again.code, 0, again.stderr); // registering twice is fine

      const unregistered = await runKortti(["post-url", "--unregister"], { env });
      assertEquals(unregistered.code, 0, unregistered.stderr);
      assertMatch(unregistered.stdout, /removed .*kortti-erasmartcardpost\.desktop/);
      assert(!(await exists(file)));
      assertEquals(await queryDefault(env), "");
      assert(!(await Deno.readTextFile(`${home}/.config/mimeapps.list`)).includes("kortti"));
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test({
  name: "register honours XDG_DATA_HOME and XDG_CONFIG_HOME",
  ignore: !hasXdgMime,
  fn: async () => {
    const root = await Deno.makeTempDir({ prefix: "kortti-xdg-" });
    try {
      const env = {
        HOME: `${root}/home`,
        XDG_DATA_HOME: `${root}/data`,
        XDG_CONFIG_HOME: `${root}/config`,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      };
      assertEquals((await runKortti(["post-url", "--register"], { env })).code, 0);
      assert(await exists(`${root}/data/applications/kortti-erasmartcardpost.desktop`));
      assertEquals(await queryDefault(env), "kortti-erasmartcardpost.desktop");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("a URL with --register is a usage error", async () => {
  const run = await runKortti(["post-url", "--register", "erasmartcardpost://h/P"], { env: { HOME: "/nonexistent" } });
  assertEquals(run.code, 2);
});

Deno.test("Exec quoting follows the desktop entry specification", () => {
  assertEquals(quoteExecArgument("/usr/local/bin/kortti"), "/usr/local/bin/kortti");
  assertEquals(quoteExecArgument("/opt/my tools/kortti"), '"/opt/my tools/kortti"');
  // `"` and `\` are escaped for the quoting, then every backslash once more for the string value.
  assertEquals(quoteExecArgument('/a"b\\c$d'), '"/a\\\\"b\\\\\\\\c\\\\$d"');
  assertEquals(quoteExecArgument("/50%/kortti"), "/50%%/kortti");
  assertMatch(desktopEntry(["/x y/kortti", "post-url"]), /^Exec="\/x y\/kortti" post-url %u$/m);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
