/**
 * The PIN dialog of `serve` over the Assuan protocol, against small pinentry programs: what the dialog is told
 * (title, escaped multi-line description naming origin, holder, key and hash; prompt), the PIN read as bytes with
 * Assuan unescaping, cancel and timeout as `PinCancelledError`, a missing program as a dialog failure. Also the
 * check's own fake pinentry.
 */

import { assert, assertEquals, assertMatch, assertRejects } from "./helpers/assert.ts";
import { pinentryDialog } from "../lib/serve/pinentry.ts";
import type { PinPrompt } from "../lib/serve/pin-dialog.ts";
import { KorttiError, PinCancelledError } from "../lib/errors.ts";

const PROMPT: PinPrompt = {
  origin: "https://app.example.test",
  holder: "MEIKÄLÄINEN-TEST MATTI",
  key: "sign",
  pin: "PIN2",
  hash: "sha256",
  digestHex: "ab".repeat(32),
  triesLeft: 3,
};

async function script(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(path, `#!/usr/bin/env python3\nimport os, sys, time\n${body}`, { mode: 0o755 });
  return path;
}

const LOGGING = `
log = open(os.environ["LOG"], "a")
print("OK Pleased to meet you", flush=True)
for line in sys.stdin:
    log.write(line); log.flush()
    cmd = line.split(" ", 1)[0].strip()
    if cmd == "GETPIN":
        ANSWER
    elif cmd == "BYE":
        print("OK", flush=True); break
    else:
        print("OK", flush=True)
`;

Deno.test("pinentry: the dialog names origin, holder, key and hash; the PIN comes back as bytes, unescaped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-pinentry-" });
  try {
    const log = `${dir}/log`;
    Deno.env.set("LOG", log);
    // "12%3456" is how a PIN containing '%' travels: %25.
    const program = await script(
      dir,
      "answers",
      LOGGING.replace(
        "ANSWER",
        'print("S PASSWORD_FROM_CACHE", flush=True); print("D 12%2534", flush=True); print("OK", flush=True)',
      ),
    );
    const pin = await pinentryDialog({ program })(PROMPT);
    assertEquals(new TextDecoder().decode(pin), "12%34");
    const told = await Deno.readTextFile(log);
    assertMatch(told, /^SETTITLE kortti: signature request from https:\/\/app\.example\.test$/m);
    const desc = told.split("\n").find((l) => l.startsWith("SETDESC "))!;
    assert(!desc.includes("\r"), "one line");
    assertMatch(desc, /https:\/\/app\.example\.test asks for a signature with the qualified signature key/);
    assertMatch(desc, /%0ACard holder: MEIKÄLÄINEN-TEST MATTI%0A/);
    assertMatch(desc, /Key: signature \(PIN2\)/);
    assertMatch(desc, /SHA-256 being signed:%0AABAB ABAB/);
    assertMatch(desc, /PIN2 tries left: 3/);
    assertMatch(told, /^SETPROMPT PIN2:$/m);
    assertMatch(told, /^GETPIN$/m);
  } finally {
    Deno.env.delete("LOG");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pinentry: cancel, an empty entry, a dialog that dies and a timeout are all 'cancelled'; no program fails", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-pinentry-" });
  try {
    Deno.env.set("LOG", `${dir}/log`);
    const cancel = await script(
      dir,
      "cancel",
      LOGGING.replace("ANSWER", 'print("ERR 83886179 Operation cancelled <Pinentry>", flush=True)'),
    );
    await assertRejects(() => pinentryDialog({ program: cancel })(PROMPT), PinCancelledError);
    const empty = await script(dir, "empty", LOGGING.replace("ANSWER", 'print("OK", flush=True)'));
    await assertRejects(() => pinentryDialog({ program: empty })(PROMPT), PinCancelledError);
    const dies = await script(dir, "dies", LOGGING.replace("ANSWER", "sys.exit(1)"));
    await assertRejects(() => pinentryDialog({ program: dies })(PROMPT), PinCancelledError);
    const sleeps = await script(dir, "sleeps", LOGGING.replace("ANSWER", "time.sleep(60)"));
    const started = performance.now();
    // The dialog's own timeout is 1 s here; kortti gives it 5 s more before ending it.
    await assertRejects(() => pinentryDialog({ program: sleeps, timeoutSeconds: 1 })(PROMPT), PinCancelledError);
    assert(performance.now() - started < 15_000);
    const failing = await script(
      dir,
      "failing",
      LOGGING.replace("ANSWER", 'print("ERR 83918950 Inappropriate ioctl for device", flush=True)'),
    );
    const error = await assertRejects(() => pinentryDialog({ program: failing })(PROMPT), KorttiError);
    assertEquals(error.code, "PIN_DIALOG_FAILED");
    const missing = await assertRejects(() => pinentryDialog({ program: `${dir}/nope` })(PROMPT), KorttiError);
    assertEquals(missing.code, "PIN_DIALOG_FAILED");
  } finally {
    Deno.env.delete("LOG");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pinentry: the contract check's fake pinentry answers $CHECK_PIN", async () => {
  const fake = "/work/shared/checks/lib/fake-pinentry";
  try {
    Deno.statSync(fake);
  } catch {
    return; // not on this machine
  }
  Deno.env.set("CHECK_PIN", "123456");
  try {
    assertEquals(new TextDecoder().decode(await pinentryDialog({ program: fake })(PROMPT)), "123456");
  } finally {
    Deno.env.delete("CHECK_PIN");
  }
});
