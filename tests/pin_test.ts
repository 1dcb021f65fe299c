import { assert, assertEquals, assertRejects, assertThrows } from "./helpers/assert.ts";
import { pinProviderFrom } from "../lib/pin.ts";
import { IoError, NoPinSourceError, PinFormatError, PinSourceError } from "../lib/errors.ts";
import type { PinRequest } from "../lib/card/card.ts";

const request: PinRequest = { pin: "PIN2", key: "sign", triesLeft: 5 };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function pinFile(content: string, mode: number): string {
  const path = Deno.makeTempFileSync();
  Deno.writeTextFileSync(path, content);
  Deno.chmodSync(path, mode);
  return path;
}

Deno.test("no PIN source and no prompt fails before anything else, with exit 5", () => {
  const error = assertThrows(() => pinProviderFrom({}), NoPinSourceError);
  assertEquals(error.exitCode, 5);
});

Deno.test("--pin-env gives the variable's digits; an unset variable is refused at once", async () => {
  Deno.env.set("KORTTI_TEST_PIN_A", "123456");
  assertEquals(text(await pinProviderFrom({ pinEnv: "KORTTI_TEST_PIN_A" })(request)), "123456");
  assertEquals(assertThrows(() => pinProviderFrom({ pinEnv: "KORTTI_TEST_PIN_UNSET" }), PinSourceError).exitCode, 5);
});

Deno.test("--pin-file reads the first line of a private file", async () => {
  const path = pinFile("123456\n", 0o600);
  assertEquals(text(await pinProviderFrom({ pinFile: path })(request)), "123456");
  Deno.removeSync(path);
});

Deno.test("--pin-file refuses a file that group or others can read (exit 5, says how to fix)", () => {
  for (const mode of [0o640, 0o604, 0o644]) {
    const path = pinFile("123456\n", mode);
    const error = assertThrows(() => pinProviderFrom({ pinFile: path }), PinSourceError, /read or written by others/);
    assertEquals(error.exitCode, 5);
    assert(error.hint?.includes("chmod 600"));
    Deno.removeSync(path);
  }
});

Deno.test("a missing --pin-file is an I/O error (exit 7)", () => {
  assertEquals(assertThrows(() => pinProviderFrom({ pinFile: "/nonexistent/pin" }), IoError).exitCode, 7);
});

Deno.test("sources are taken in the order fd, file, env, prompt", async () => {
  Deno.env.set("KORTTI_TEST_PIN_B", "111111");
  const path = pinFile("222222", 0o600);
  const prompt = () => Promise.resolve(new TextEncoder().encode("333333"));
  assertEquals(text(await pinProviderFrom({ pinFile: path, pinEnv: "KORTTI_TEST_PIN_B", prompt })(request)), "222222");
  assertEquals(text(await pinProviderFrom({ pinEnv: "KORTTI_TEST_PIN_B", prompt })(request)), "111111");
  assertEquals(text(await pinProviderFrom({ prompt })(request)), "333333");
  Deno.removeSync(path);
});

Deno.test("the prompt is asked only when the card asks, and sees which PIN and whose card", async () => {
  const seen: PinRequest[] = [];
  const provider = pinProviderFrom({
    prompt: (r) => {
      seen.push(r);
      return Promise.resolve(new TextEncoder().encode("1234"));
    },
  });
  assertEquals(seen.length, 0);
  await provider({ ...request, holder: "MATTI" });
  assertEquals(seen, [{ ...request, holder: "MATTI" }]);
});

Deno.test("a PIN that is not 1-12 digits is refused without reaching the card", async () => {
  for (const bad of ["", "12a456", "1234567890123"]) {
    Deno.env.set("KORTTI_TEST_PIN_C", bad);
    const error = await assertRejects(() => pinProviderFrom({ pinEnv: "KORTTI_TEST_PIN_C" })(request), PinFormatError);
    assertEquals(error.exitCode, 5);
    assert(!error.message.includes(bad) || bad === "");
  }
});

Deno.test("--pin-fd reads up to the newline from the descriptor", async () => {
  // Spawned so the PIN arrives on a real inherited descriptor 3, as a shell would give it.
  const script = `
    import { pinProviderFrom } from "${new URL("../lib/pin.ts", import.meta.url).href}";
    const pin = await pinProviderFrom({ pinFd: 3 })({ pin: "PIN1", key: "auth", triesLeft: 5 });
    console.log(new TextDecoder().decode(pin));`;
  const deno = Deno.execPath();
  const out = await new Deno.Command("bash", {
    args: ["-c", `printf '4321\\nrest' | "${deno}" eval --no-check "$SCRIPT" 3<&0 </dev/null`],
    env: { SCRIPT: script },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(text(out.stderr), "");
  assertEquals(text(out.stdout), "4321\n");
});
