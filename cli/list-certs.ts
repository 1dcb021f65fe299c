/**
 * `kortti list-certs [--reader R] [--key auth|sign|all] [--json | --pem] [--out DIR]`: the certificates on the card
 * and their PIN state (docs/cli.md). Expired or not-yet-valid certificates are listed with a mark, never hidden.
 * `--out DIR` writes `auth.pem` and `sign.pem` atomically, only after everything was read from the card.
 * @module
 */

import { Command, Option } from "commander";
import { addCardOptions, type CardOptions, traceSink, virtualProfile } from "./card-options.ts";
import { printJson, table, writeOut } from "./output.ts";
import type { CardCertificate, PinState } from "../lib/card/card.ts";
import type { CertificateInfo, CertificateSummary } from "../lib/card/certificate-info.ts";

interface ListCertsOptions extends CardOptions {
  key: "auth" | "sign" | "all";
  json?: boolean;
  pem?: boolean;
  out?: string;
}

/** The `list-certs` command. */
export function listCertsCommand(): Command {
  return addCardOptions(
    new Command("list-certs")
      .description("the certificates on the card and their PIN state")
      .addOption(new Option("--key <key>", "which certificates").choices(["auth", "sign", "all"]).default("all"))
      .addOption(new Option("--json", "print JSON (docs/cli.md)").conflicts("pem"))
      .option("--pem", "print the certificates as PEM, one after the other")
      .option("--out <dir>", "also write auth.pem and sign.pem into DIR (created if missing)")
      .addHelpText("after", "\nExample:\n  kortti list-certs --virtual-card --json"),
  ).action(listCerts);
}

async function listCerts(options: ListCertsOptions): Promise<void> {
  const { openCard } = await import("../lib/open.ts");
  const { NoMatchingKeyError } = await import("../lib/errors.ts");
  const { describeCertificate, toPem } = await import("../lib/card/certificate-info.ts");
  const keys = options.key === "all" ? undefined : [options.key];
  // --pem needs only the certificates: no PIN status, no token info, fewer APDUs.
  const needsPins = !options.pem;
  const card = await openCard({
    reader: options.reader,
    virtualCard: virtualProfile(options),
    trace: traceSink(options),
  });
  let certificates: CardCertificate[];
  let serialNumber: string | undefined;
  const pins = new Map<string, PinState>();
  try {
    certificates = await card.certificates(keys);
    if (certificates.length === 0) {
      throw new NoMatchingKeyError(
        keys ? `the card has no ${keys[0] === "auth" ? "authentication" : "signature"} certificate` : "no certificates",
      );
    }
    if (needsPins) { for (const c of certificates) if (!pins.has(c.pin)) pins.set(c.pin, await card.pinStatus(c.pin)); }
    serialNumber = needsPins ? await card.serialNumber() : undefined;
  } finally {
    await card.close();
  }
  if (options.out) {
    const { writeFileAtomic } = await import("../lib/fs.ts");
    const { IoError } = await import("../lib/errors.ts");
    try {
      Deno.mkdirSync(options.out, { recursive: true });
    } catch (error) {
      throw new IoError(`cannot create ${options.out} (${error instanceof Error ? error.message : error})`);
    }
    for (const c of certificates) {
      writeFileAtomic(`${options.out}/${c.key}.pem`, new TextEncoder().encode(toPem(c.der)), { force: true });
    }
  }
  if (options.pem) {
    writeOut(certificates.map((c) => toPem(c.der)).join(""));
    return;
  }
  const described = await Promise.all(certificates.map((c) => describeCertificate(c, pins.get(c.pin))));
  if (options.json) {
    printJson({
      reader: card.readerName,
      card: { family: card.family, model: card.model, serialNumber: serialNumber ?? null },
      certificates: described.map(({ summary: _, ...info }) => info),
    });
    return;
  }
  writeOut(
    `reader: ${card.readerName}\ncard:   ${card.family} (${card.model})${
      serialNumber ? `, serial ${serialNumber}` : ""
    }\n\n` + certificateTable(described) +
      (options.out ? `\nwritten: ${certificates.map((c) => `${options.out}/${c.key}.pem`).join(", ")}\n` : ""),
  );
}

/**
 * The human table of `list-certs`: key, subject CN, issuer CN, validity (marked EXPIRED or NOT YET VALID, never
 * hidden), key algorithm and the PIN's tries left.
 *
 * @example
 * ```ts
 * import { certificateTable } from "./list-certs.ts";
 * certificateTable([]); // just the header line
 * ```
 */
export function certificateTable(described: (CertificateInfo & { summary: CertificateSummary })[]): string {
  const validity = { "valid": "", "expired": "EXPIRED ", "not-yet-valid": "NOT YET VALID " };
  const tries = (n: number | null) => n === null ? "tries left unknown" : `${n} ${n === 1 ? "try" : "tries"} left`;
  const rows = described.map((d) => [
    d.key,
    d.summary.subjectCommonName,
    d.summary.issuerCommonName,
    `${validity[d.summary.validity]}${d.notBefore.slice(0, 10)} .. ${d.notAfter.slice(0, 10)}`,
    d.keyAlgorithm,
    `${d.pin.name}: ${d.pin.blocked ? "BLOCKED" : tries(d.pin.triesLeft)}`,
  ]);
  return table([["KEY", "SUBJECT CN", "ISSUER CN", "VALIDITY", "ALGORITHM", "PIN"], ...rows]);
}
