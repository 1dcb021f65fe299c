/**
 * Where a PIN comes from, in the order of docs/cli.md: `--pin-fd N`, `--pin-file FILE` (refused when others can
 * read it), `--pin-env VAR`, else a prompt the caller injects (the terminal prompt lives in `cli/`: `lib/` never
 * reads the terminal). The source is checked when the provider is made, before any card is touched, so that "no PIN
 * source" or "PIN file readable by others" fail without spending anything. The PIN itself is read only when the card
 * asks for it, right before the VERIFY, and every buffer that held it is zeroed.
 *
 * @example
 * ```ts
 * import { pinProviderFrom } from "./pin.ts";
 * const provider = pinProviderFrom({ pinEnv: "KORTTI_PIN" });
 * // card.sign({ ..., pin: provider })
 * ```
 * @module
 */

import type { PinProvider, PinRequest } from "./card/card.ts";
import { IoError, NoPinSourceError, PinFormatError, PinSourceError } from "./errors.ts";

/** Asks a person for the PIN (a hidden terminal prompt, a pinentry dialog). Throws `PinCancelledError` on cancel. */
export type PinPrompt = (request: PinRequest) => Promise<Uint8Array>;

/** The PIN sources a command was given. */
export interface PinSourceOptions {
  /** Read the PIN from this open file descriptor (up to a newline or the end). */
  pinFd?: number;
  /** Read the PIN from this file, which must not be readable by group or others. */
  pinFile?: string;
  /** Read the PIN from this environment variable. */
  pinEnv?: string;
  /** Ask a person, when none of the above is given; undefined when there is no one to ask. */
  prompt?: PinPrompt;
}

/** Longest PIN any DVV card takes; anything longer is not a PIN. */
const MAX_PIN = 12;

/**
 * Makes the PIN provider for the first source given, checking it now (before the card is touched):
 * `NoPinSourceError` when there is no source and no prompt, `PinSourceError` for a PIN file others can read or an
 * unset variable, `IoError` for a PIN file that cannot be read.
 *
 * @example
 * ```ts
 * import { pinProviderFrom } from "./pin.ts";
 * const provider = pinProviderFrom({ pinFile: "/run/user/1000/pin2" });
 * ```
 */
export function pinProviderFrom(options: PinSourceOptions): PinProvider {
  if (options.pinFd !== undefined) return fdProvider(options.pinFd);
  if (options.pinFile !== undefined) return fileProvider(options.pinFile);
  if (options.pinEnv !== undefined) return envProvider(options.pinEnv);
  if (options.prompt) {
    const prompt = options.prompt;
    return async (request) => checkedPin(await prompt(request), request);
  }
  throw new NoPinSourceError();
}

function fdProvider(fd: number): PinProvider {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new PinSourceError(`--pin-fd ${fd} is not a file descriptor`, "give a number such as --pin-fd 3");
  }
  const path = Deno.build.os === "windows" ? undefined : `/dev/fd/${fd}`;
  if (!path) throw new PinSourceError("--pin-fd is not available on Windows", "use --pin-file or --pin-env");
  return (request) => {
    let file: Deno.FsFile;
    try {
      file = Deno.openSync(path, { read: true });
    } catch (error) {
      throw new PinSourceError(
        `cannot read the PIN from file descriptor ${fd} (${error instanceof Error ? error.name : "error"})`,
        `open descriptor ${fd} for kortti, e.g. 'kortti sign --pin-fd 3 3< pinfile'`,
      );
    }
    try {
      return Promise.resolve(checkedPin(readLine(file), request));
    } finally {
      file.close();
    }
  };
}

function fileProvider(path: string): PinProvider {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    throw new IoError(`cannot read the PIN file ${path} (${error instanceof Error ? error.name : "error"})`, {
      cause: error,
    });
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    throw new PinSourceError(
      `the PIN file ${path} can be read or written by others (mode ${(info.mode & 0o777).toString(8)})`,
      `make it private first: chmod 600 ${path}`,
    );
  }
  if (!info.isFile) throw new IoError(`the PIN file ${path} is not a file`);
  return (request) => {
    let bytes: Uint8Array;
    try {
      bytes = Deno.readFileSync(path);
    } catch (error) {
      throw new IoError(`cannot read the PIN file ${path} (${error instanceof Error ? error.name : "error"})`);
    }
    try {
      return Promise.resolve(checkedPin(firstLine(bytes), request));
    } finally {
      bytes.fill(0);
    }
  };
}

function envProvider(name: string): PinProvider {
  if (Deno.env.get(name) === undefined) {
    throw new PinSourceError(
      `the environment variable ${name} is not set`,
      `set ${name} to the PIN, or give another source`,
    );
  }
  return (request) => {
    const value = Deno.env.get(name) ?? "";
    return Promise.resolve(checkedPin(new TextEncoder().encode(value), request));
  };
}

/** Reads up to the first newline (or the end) from a descriptor, a few bytes at a time, never more than a PIN. */
function readLine(file: Deno.FsFile): Uint8Array {
  const collected = new Uint8Array(MAX_PIN + 2);
  const chunk = new Uint8Array(MAX_PIN + 2);
  let length = 0;
  try {
    while (length < collected.length) {
      const n = file.readSync(chunk.subarray(0, collected.length - length));
      if (n === null || n === 0) break;
      collected.set(chunk.subarray(0, n), length);
      length += n;
      if (chunk.subarray(0, n).includes(0x0a)) break;
    }
    return firstLine(collected.subarray(0, length));
  } finally {
    chunk.fill(0);
    collected.fill(0);
  }
}

/** A copy of the bytes up to the first CR or LF. */
function firstLine(bytes: Uint8Array): Uint8Array {
  let end = 0;
  while (end < bytes.length && bytes[end] !== 0x0a && bytes[end] !== 0x0d) end++;
  return bytes.slice(0, end);
}

/** Checks that the PIN is 1–12 ASCII digits (no try is spent on a malformed PIN); zeroes it when it is not. */
function checkedPin(pin: Uint8Array, request: PinRequest): Uint8Array {
  const digitsOnly = pin.every((b) => b >= 0x30 && b <= 0x39);
  if (pin.length === 0 || pin.length > MAX_PIN || !digitsOnly) {
    const why = pin.length === 0
      ? "is empty"
      : pin.length > MAX_PIN
      ? `is longer than ${MAX_PIN} digits`
      : "must be digits only";
    pin.fill(0);
    throw new PinFormatError(request.pin, why);
  }
  return pin;
}
