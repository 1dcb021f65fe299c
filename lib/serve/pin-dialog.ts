/**
 * What the PIN dialog of `serve` shows: who asks (the origin), whose card (the holder), which key and PIN, and the
 * hash being signed, so the person decides knowing what they sign. Dialog implementations (pinentry, terminal)
 * take a `PinPrompt` and give the PIN bytes, or throw `PinCancelledError`.
 *
 * @example
 * ```ts
 * import { describePrompt } from "./pin-dialog.ts";
 * const text = describePrompt({
 *   origin: "https://app.example.fi", holder: "MEIKÄLÄINEN MATTI", key: "sign", pin: "PIN2",
 *   hash: "sha256", digestHex: "00".repeat(32), triesLeft: 3,
 * });
 * console.log(text.title, text.description, text.prompt);
 * ```
 * @module
 */

import type { HashName, KeyName, PinName } from "../card/card.ts";

/** What one PIN request is about. */
export interface PinPrompt {
  /** The requesting web origin, or undefined for a request without Origin. */
  origin: string | undefined;
  /** The certificate holder (subject CN), when known. */
  holder?: string;
  /** Which key signs. */
  key: KeyName;
  /** Which PIN unlocks it. */
  pin: PinName;
  /** The hash algorithm of the digest shown. */
  hash: HashName;
  /** The digest of what is signed (for CMS: of the content), hex. */
  digestHex: string;
  /** Tries left before this one, when known. */
  triesLeft: number | null;
  /** What the signature is for: a signature (default) or a login (a Web eID token of the erasmartcard listener). */
  purpose?: "sign" | "authenticate";
}

/** Asks the person for the PIN; resolves to its ASCII digit bytes (the caller zeroes them), or throws cancel. */
export type PinDialog = (prompt: PinPrompt) => Promise<Uint8Array>;

/** The texts of a dialog. */
export interface PromptText {
  /** Window title. */
  title: string;
  /** Multi-line description (plain text, `\n` between lines). */
  description: string;
  /** The short prompt next to the entry field, e.g. `PIN2:`. */
  prompt: string;
}

/**
 * Builds the dialog texts for a prompt.
 *
 * @example
 * ```ts
 * import { describePrompt } from "./pin-dialog.ts";
 * console.log(describePrompt({
 *   origin: undefined, key: "auth", pin: "PIN1", hash: "sha384", digestHex: "ab".repeat(48), triesLeft: null,
 * }).description);
 * ```
 */
export function describePrompt(prompt: PinPrompt): PromptText {
  const who = prompt.origin ?? "a local program (no web origin)";
  const keyText = prompt.key === "sign" ? "qualified signature key (legally binding signature)" : "authentication key";
  const login = prompt.purpose === "authenticate";
  const lines = [
    login
      ? `${who} asks you to log in with the ${keyText} (Web eID).`
      : `${who} asks for a signature with the ${keyText}.`,
    "",
    `Card holder: ${prompt.holder ?? "unknown"}`,
    `Key: ${prompt.key === "sign" ? "signature" : "authentication"} (${prompt.pin})`,
    `${hashLabel(prompt.hash)} being signed:`,
    groupHex(prompt.digestHex),
  ];
  if (prompt.triesLeft !== null) lines.push("", `${prompt.pin} tries left: ${prompt.triesLeft}`);
  lines.push("", `Enter ${prompt.pin} to ${login ? "log in" : "sign"}, or cancel to refuse.`);
  const title = login ? `kortti: login request from ${who}` : `kortti: signature request from ${who}`;
  return { title, description: lines.join("\n"), prompt: `${prompt.pin}:` };
}

function hashLabel(hash: HashName): string {
  return hash.toUpperCase().replace("SHA", "SHA-");
}

function groupHex(hex: string): string {
  const groups = hex.toUpperCase().match(/.{1,4}/g) ?? [];
  const rows: string[] = [];
  for (let i = 0; i < groups.length; i += 8) rows.push(groups.slice(i, i + 8).join(" "));
  return rows.join("\n");
}
