/**
 * A PIN dialog through the standard `pinentry` program, speaking its Assuan protocol over pipes: SETTITLE, SETDESC
 * (naming the origin, holder, key and hash), SETPROMPT, GETPIN. The PIN is read as bytes from the `D` line and never
 * becomes a string; cancel (or the dialog's timeout) becomes `PinCancelledError`.
 *
 * @example
 * ```ts
 * import { pinentryDialog } from "./pinentry.ts";
 * const ask = pinentryDialog({ program: "pinentry" });
 * const pin = await ask({
 *   origin: "https://app.example.fi", key: "sign", pin: "PIN2", hash: "sha256", digestHex: "00".repeat(32),
 *   triesLeft: 3,
 * });
 * pin.fill(0);
 * ```
 * @module
 */

import { KorttiError, PinCancelledError } from "../errors.ts";
import { describePrompt, type PinDialog, type PinPrompt } from "./pin-dialog.ts";

/** How to run pinentry. */
export interface PinentryOptions {
  /** The pinentry program; default `pinentry`. */
  program?: string;
  /** Seconds the dialog waits for the person before it counts as cancelled; default 120. */
  timeoutSeconds?: number;
}

/** GPG error codes (low 16 bits) that mean the person did not give a PIN. */
const CANCEL_CODES = new Set([99, /* GPG_ERR_CANCELED */ 62, /* GPG_ERR_TIMEOUT */ 177 /* GPG_ERR_NOT_CONFIRMED */]);

/**
 * Makes a `PinDialog` that runs pinentry once per request.
 *
 * @example
 * ```ts
 * import { pinentryDialog } from "./pinentry.ts";
 * const dialog = pinentryDialog({ program: "/usr/bin/pinentry-gnome3", timeoutSeconds: 60 });
 * ```
 */
export function pinentryDialog(options: PinentryOptions = {}): PinDialog {
  const program = options.program ?? "pinentry";
  const timeoutSeconds = options.timeoutSeconds ?? 120;
  return (prompt) => askPinentry(program, timeoutSeconds, prompt);
}

async function askPinentry(program: string, timeoutSeconds: number, prompt: PinPrompt): Promise<Uint8Array> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(program, { stdin: "piped", stdout: "piped", stderr: "null" }).spawn();
  } catch (e) {
    throw new KorttiError("PIN_DIALOG_FAILED", 5, `cannot start the PIN dialog '${program}'`, {
      hint: "install pinentry (e.g. pinentry-gnome3) or give --pinentry PATH or --pin-dialog tty",
      cause: e,
    });
  }
  const session = new AssuanSession(child);
  const killer = setTimeout(() => session.abort(), (timeoutSeconds + 5) * 1000);
  try {
    await session.expectGreeting();
    const text = describePrompt(prompt);
    await session.command(`SETTITLE ${escape(text.title)}`);
    await session.command(`SETDESC ${escape(text.description)}`);
    await session.command(`SETPROMPT ${escape(text.prompt)}`);
    await session.command(`SETOK ${escape("Sign")}`);
    await session.command(`SETCANCEL ${escape("Cancel")}`);
    await session.command(`SETTIMEOUT ${timeoutSeconds}`).catch(() => {}); // older pinentries lack it
    const answer = await session.command("GETPIN");
    await session.command("BYE").catch(() => {});
    if (answer.length === 0) throw new PinCancelledError(); // empty entry: nothing to verify
    return answer;
  } catch (e) {
    if (e instanceof AssuanError) {
      if (CANCEL_CODES.has(e.code & 0xffff) || e.code === -1) throw new PinCancelledError();
      throw new KorttiError("PIN_DIALOG_FAILED", 5, `the PIN dialog failed (${e.text})`, {
        hint: "check that pinentry can show a dialog here (DISPLAY), or use --pin-dialog tty",
      });
    }
    throw e;
  } finally {
    clearTimeout(killer);
    await session.close();
  }
}

class AssuanError extends Error {
  readonly code: number;
  readonly text: string;
  constructor(code: number, text: string) {
    super(`ERR ${code} ${text}`);
    this.code = code;
    this.text = text;
  }
}

/** One Assuan conversation with a child process; answers are read as bytes, line by line. */
class AssuanSession {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #buffer = new Uint8Array(0);
  #closed = false;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#reader = child.stdout.getReader();
  }

  async expectGreeting(): Promise<void> {
    const line = await this.#line();
    if (!startsWith(line, "OK")) throw new AssuanError(-2, "pinentry did not greet");
  }

  /** Sends a command; returns the bytes of its D lines (unescaped) once OK arrives. */
  async command(text: string): Promise<Uint8Array> {
    await this.#writer.write(new TextEncoder().encode(text + "\n"));
    const data: Uint8Array[] = [];
    try {
      for (;;) {
        const line = await this.#line();
        if (startsWith(line, "OK")) return concatAndWipe(data);
        if (startsWith(line, "D ")) data.push(unescapeBytes(line.subarray(2)));
        else if (startsWith(line, "ERR")) {
          const rest = new TextDecoder().decode(line.subarray(4));
          const code = parseInt(rest, 10);
          throw new AssuanError(Number.isFinite(code) ? code : 0, rest.replace(/^\d+\s*/, ""));
        } else if (startsWith(line, "INQUIRE")) await this.#writer.write(new TextEncoder().encode("END\n"));
        // S (status) and # (comment) lines carry nothing we need.
        line.fill(0);
      }
    } catch (e) {
      for (const d of data) d.fill(0);
      throw e;
    }
  }

  abort(): void {
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.fill(0);
    await this.#writer.close().catch(() => {});
    await this.#reader.cancel().catch(() => {});
    this.abort();
    await this.#child.status.catch(() => {});
  }

  async #line(): Promise<Uint8Array> {
    for (;;) {
      const newline = this.#buffer.indexOf(0x0a);
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        const rest = this.#buffer.slice(newline + 1);
        this.#buffer.fill(0);
        this.#buffer = rest;
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new AssuanError(-1, "pinentry ended without answering");
      const joined = new Uint8Array(this.#buffer.length + value.length);
      joined.set(this.#buffer);
      joined.set(value, this.#buffer.length);
      this.#buffer.fill(0);
      value.fill(0);
      this.#buffer = joined;
    }
  }
}

function startsWith(line: Uint8Array, text: string): boolean {
  if (line.length < text.length) return false;
  for (let i = 0; i < text.length; i++) if (line[i] !== text.charCodeAt(i)) return false;
  return line.length === text.length || text.endsWith(" ") || line[text.length] === 0x20;
}

/** Assuan escaping of command arguments: `%`, CR and LF as %XX. */
function escape(text: string): string {
  return text.replace(/[%\r\n]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0"));
}

function unescapeBytes(escaped: Uint8Array): Uint8Array {
  const out = new Uint8Array(escaped.length);
  let n = 0;
  for (let i = 0; i < escaped.length; i++) {
    if (escaped[i] === 0x25 && i + 2 < escaped.length) {
      out[n++] = parseInt(String.fromCharCode(escaped[i + 1], escaped[i + 2]), 16);
      i += 2;
    } else out[n++] = escaped[i];
  }
  escaped.fill(0);
  const result = out.slice(0, n);
  out.fill(0);
  return result;
}

function concatAndWipe(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
    p.fill(0);
  }
  return out;
}
