/**
 * The hidden PIN prompt on the terminal: the question (which PIN, whose card, tries left) goes to stderr, the digits
 * are read from standard input in raw mode so nothing is echoed. Lives in `cli/` because `lib/` never reads the
 * terminal; `lib/pin.ts` receives it as an injected prompt.
 *
 * @example
 * ```ts
 * import { terminalPinPrompt } from "./pin-prompt.ts";
 * import { pinProviderFrom } from "../lib/pin.ts";
 * const provider = pinProviderFrom({ prompt: terminalPinPrompt() });
 * ```
 * @module
 */

import type { PinRequest } from "../lib/card/card.ts";
import { PinCancelledError } from "../lib/errors.ts";
import type { PinPrompt } from "../lib/pin.ts";
import { writeErr } from "./output.ts";

const MAX_PIN = 12;

/**
 * The prompt text for a PIN request.
 *
 * @example
 * ```ts
 * import { promptText } from "./pin-prompt.ts";
 * promptText({ pin: "PIN2", key: "sign", triesLeft: 5, holder: "MEIKÄLÄINEN MATTI" });
 * // "PIN2 (signature PIN) for MEIKÄLÄINEN MATTI's card, 5 tries left: "
 * ```
 */
export function promptText(request: PinRequest): string {
  const which = request.key === "sign" ? "signature PIN" : "authentication PIN";
  const whose = request.holder ? ` for ${request.holder}'s card` : "";
  const tries = request.triesLeft === null
    ? ""
    : `, ${request.triesLeft} ${request.triesLeft === 1 ? "try" : "tries"} left`;
  return `${request.pin} (${which})${whose}${tries}: `;
}

/**
 * A prompt reading from the terminal on standard input, or undefined when standard input is not a terminal (then
 * the PIN must come from --pin-fd, --pin-file or --pin-env).
 *
 * @example
 * ```ts
 * import { terminalPinPrompt } from "./pin-prompt.ts";
 * if (!terminalPinPrompt()) console.error("no terminal");
 * ```
 */
export function terminalPinPrompt(): PinPrompt | undefined {
  if (!Deno.stdin.isTerminal()) return undefined;
  return (request) => {
    writeErr(promptText(request));
    const pin = new Uint8Array(MAX_PIN + 1);
    const key = new Uint8Array(16);
    let length = 0;
    Deno.stdin.setRaw(true);
    try {
      for (;;) {
        const n = Deno.stdin.readSync(key);
        if (n === null) throw new PinCancelledError();
        for (let i = 0; i < n; i++) {
          const b = key[i];
          if (b === 0x0d || b === 0x0a) return Promise.resolve(pin.slice(0, length));
          if (b === 0x03 || b === 0x04 || b === 0x1b) throw new PinCancelledError();
          if (b === 0x7f || b === 0x08) length = Math.max(0, length - 1);
          else if (length < pin.length) pin[length++] = b;
        }
      }
    } finally {
      key.fill(0);
      pin.fill(0);
      Deno.stdin.setRaw(false);
      writeErr("\n");
    }
  };
}
