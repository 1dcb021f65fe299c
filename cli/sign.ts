/**
 * `kortti sign`: sign a file or a digest with the card. Thin: checks the options and everything that can fail
 * before the card is touched (output exists, input missing, no PIN source), then calls the signing core
 * (`lib/sign/mod.ts`) and writes the result atomically or to standard output.
 * @module
 */

import { Command, Option } from "commander";
import type { Card, CardCertificate, HashName, KeyName, PinState } from "../lib/card/card.ts";
import { IoError, UsageError } from "../lib/errors.ts";
import { addCardOptions, type CardOptions, traceSink, virtualProfile } from "./card-options.ts";
import { printJson, writeErr } from "./output.ts";
import { terminalPinPrompt } from "./pin-prompt.ts";

/** Parsed options of `kortti sign`. */
interface SignOptions extends CardOptions {
  key: KeyName;
  in?: string;
  out?: string;
  format: "cms-detached" | "cms" | "cms-pades" | "raw";
  hash?: HashName;
  digest?: string;
  rsaPadding?: "pkcs1" | "pss";
  encoding: "raw" | "der";
  pinFd?: string;
  pinFile?: string;
  pinEnv?: string;
  allowLastTry?: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The `sign` command. */
export function signCommand(): Command {
  const command = new Command("sign")
    .description("sign a file or a digest with the card")
    .addOption(
      new Option("--key <key>", "which key: sign (qualified, PIN2) or auth (PIN1)").choices(["sign", "auth"]).default(
        "sign",
      ),
    )
    .option("--in <file>", "the file to sign, - for standard input (default)")
    .option("--out <file>", "where to write the signature, - for standard output (default)")
    .addOption(
      new Option("--format <format>", "output format").choices(["cms-detached", "cms", "cms-pades", "raw"]).default(
        "cms-detached",
      ),
    )
    .addOption(
      new Option("--hash <hash>", "hash (default: the key's, SHA-384 for P-384 else SHA-256)").choices([
        "sha256",
        "sha384",
        "sha512",
      ]),
    )
    .option("--digest <hex>", "sign this precomputed hash instead of a file (e.g. a PDF's byte-range digest)")
    .addOption(new Option("--rsa-padding <padding>", "RSA keys: pkcs1 or pss").choices(["pkcs1", "pss"]))
    .addOption(
      new Option("--encoding <encoding>", "raw ECDSA signatures: raw r‖s or der").choices(["raw", "der"]).default(
        "raw",
      ),
    )
    .option("--pin-fd <n>", "read the PIN from this file descriptor")
    .option("--pin-file <file>", "read the PIN from this file (must not be readable by others)")
    .option("--pin-env <var>", "read the PIN from this environment variable")
    .option("--allow-last-try", "spend the PIN's last try if it is the only one left")
    .option("--force", "replace an existing --out file")
    .option("--json", "print what was signed as JSON (with --out FILE)")
    .option("--quiet", "no progress line");
  return addCardOptions(command)
    .addHelpText(
      "after",
      "\nExample:\n  kortti sign --in contract.pdf --out contract.p7s\n  KORTTI_PIN=123456 kortti sign --virtual-card --format raw --in data --out data.sig --pin-env KORTTI_PIN",
    )
    .action(async (options: SignOptions) => await runSign(options));
}

async function runSign(options: SignOptions): Promise<void> {
  // Everything that can fail without the card fails first: no PIN try is ever spent on a doomed run.
  const digest = options.digest === undefined ? undefined : parseHexDigest(options.digest);
  if (digest && options.in !== undefined) throw new UsageError("give either --in or --digest, not both");
  const toStdout = options.out === undefined || options.out === "-";
  if (toStdout && options.json) {
    throw new UsageError("--json needs --out FILE: the signature and the JSON would share standard output");
  }
  const { assertWritableOutput, writeFileAtomic } = await import("../lib/fs.ts");
  if (!toStdout) assertWritableOutput(options.out!, options.force);
  else if (Deno.stdout.isTerminal()) {
    throw new UsageError("refusing to write a binary signature to the terminal", {
      hint: "give --out FILE, or redirect standard output to a file",
    });
  }
  const inputPath = digest ? undefined : options.in ?? "-";
  if (inputPath === "-" && Deno.stdin.isTerminal()) {
    throw new UsageError("nothing to sign: standard input is a terminal", { hint: "give --in FILE or --digest HEX" });
  }
  if (inputPath !== undefined && inputPath !== "-") checkReadable(inputPath);
  const progress = options.quiet ? undefined : progressLine();
  const prompt = terminalPinPrompt();
  const { pinProviderFrom } = await import("../lib/pin.ts");
  const pin = pinProviderFrom({
    pinFd: options.pinFd === undefined ? undefined : parseFd(options.pinFd),
    pinFile: options.pinFile,
    pinEnv: options.pinEnv,
    // The progress line is cleared before the prompt takes the terminal.
    prompt: prompt && ((request) => {
      progress?.done();
      return prompt(request);
    }),
  });

  const [{ openCard }, { signWithCard }] = await Promise.all([
    import("../lib/open.ts"),
    import("../lib/sign/mod.ts"),
  ]);
  const card = await openCard({
    reader: options.reader,
    virtualCard: virtualProfile(options),
    trace: traceSink(options),
  });
  let result;
  let certificateJson: unknown;
  try {
    result = await signWithCard({
      card,
      key: options.key,
      format: options.format,
      hash: options.hash,
      input: inputPath === undefined ? undefined : { path: inputPath },
      digest,
      rsaPadding: options.rsaPadding,
      encoding: options.encoding,
      pin,
      allowLastTry: options.allowLastTry,
      onProgress: progress?.update,
    });
    progress?.done();
    if (options.json) certificateJson = await certificateForJson(card, result.certificate);
  } finally {
    progress?.done();
    await card.close();
  }

  if (toStdout) writeAllStdout(result.output);
  else writeFileAtomic(options.out!, result.output, { force: options.force });
  if (options.json) {
    printJson({
      out: options.out,
      format: result.format,
      signatureAlgorithm: result.signatureAlgorithm,
      certificate: certificateJson,
    });
  }
}

/** The `list-certs --json` entry of the signer's certificate; the PIN state is left null if the card stops answering. */
async function certificateForJson(card: Card, certificate: CardCertificate): Promise<unknown> {
  const { describeCertificate } = await import("../lib/card/certificate-info.ts");
  let pin: PinState | undefined;
  try {
    pin = await card.pinStatus(certificate.pin);
  } catch {
    // The signature is made: an unreadable PIN state is not worth losing it.
  }
  const { summary: _summary, ...info } = await describeCertificate(certificate, pin);
  return info;
}

function parseHexDigest(text: string): Uint8Array {
  const clean = text.replace(/[\s:]/g, "");
  if (clean.length === 0 || clean.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(clean)) {
    throw new UsageError(`--digest must be hexadecimal bytes (got '${text.slice(0, 20)}')`);
  }
  return Uint8Array.from(clean.match(/../g)!, (h) => parseInt(h, 16));
}

function parseFd(text: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`--pin-fd needs a descriptor number (got '${text}')`);
  return Number(text);
}

function checkReadable(path: string): void {
  try {
    const info = Deno.statSync(path);
    if (info.isDirectory) throw new IoError(`${path} is a directory`, { hint: "give a file to --in" });
  } catch (error) {
    if (error instanceof IoError) throw error;
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : String(error);
    throw new IoError(`cannot read ${path} (${why})`, { cause: error });
  }
}

function writeAllStdout(bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += Deno.stdout.writeSync(bytes.subarray(at));
}

/** A progress line on a terminal's stderr, shown only once hashing has taken over a second. */
function progressLine(): { update: (p: { bytes: number; total?: number }) => void; done: () => void } | undefined {
  if (!Deno.stderr.isTerminal()) return undefined;
  let start: number | undefined;
  let lastDraw = 0;
  let drawn = false;
  return {
    update({ bytes, total }) {
      const now = performance.now();
      start ??= now; // the clock starts with the first block hashed
      const elapsed = (now - start) / 1000;
      if (elapsed < 1 || now - lastDraw < 200) return;
      lastDraw = now;
      drawn = true;
      const rate = bytes / elapsed;
      const left = total ? ` of ${size(total)}, ${Math.max(0, Math.ceil((total - bytes) / rate))} s left` : "";
      writeErr(`\r\x1b[Kkortti: hashing ${size(bytes)}${left}, ${size(rate)}/s`);
    },
    done() {
      if (drawn) writeErr("\r\x1b[K");
      drawn = false;
    },
  };
}

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}
