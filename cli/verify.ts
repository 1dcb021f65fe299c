/**
 * `kortti verify`: check a signature, its certificate chain and revocation. Exit 0 when valid, 1 when the signature,
 * the chain or the revocation status says no, 2 for usage errors, 7 for unreadable or malformed input (cli.md).
 * @module
 */

import { Command, Option } from "commander";
import { UsageError } from "../lib/errors.ts";
import { ExitRequest, printJson, writeOut } from "./output.ts";

interface VerifyCliOptions {
  in: string;
  sig?: string;
  format?: "cms-detached" | "cms" | "raw";
  cert?: string;
  ca?: string[];
  ocsp?: boolean;
  crl?: string[];
  at?: string;
  testPki?: boolean;
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** The `verify` command. */
export function verifyCommand(): Command {
  return new Command("verify")
    .description("check a signature, its certificate chain and revocation")
    .requiredOption("--in <file>", "the signed content (or, without --sig, the CMS with the content inside)")
    .option("--sig <file>", "the signature (CMS, PEM or DER; or raw with --cert)")
    .addOption(
      new Option("--format <format>", "signature format (detected when omitted)").choices([
        "cms-detached",
        "cms",
        "raw",
      ]),
    )
    .option("--cert <pem>", "the signer certificate (needed for --format raw)")
    .option("--ca <pem>", "trust anchors and intermediates, PEM (repeatable)", collect)
    .option("--ocsp", "ask the OCSP responder named in the signer certificate")
    .option("--crl <file>", "a CRL to check the signer certificate against (repeatable)", collect)
    .option("--at <iso-time>", "check certificate validity at this time instead of the signing time")
    .option("--test-pki", "trust the virtual card's TEST root (never for real signatures)")
    .option("--json", "print the result as JSON")
    .addHelpText("after", "\nExample:\n  kortti verify --in contract.pdf --sig contract.p7s --ca dvv-root.pem --ocsp")
    .action(async (options: VerifyCliOptions) => {
      let at: Date | undefined;
      if (options.at !== undefined) {
        at = new Date(options.at);
        if (Number.isNaN(at.getTime())) throw new UsageError(`--at '${options.at}' is not an ISO time`);
      }
      const { verifySignature } = await import("../lib/verify/mod.ts");
      const report = await verifySignature({
        input: options.in,
        signature: options.sig,
        format: options.format,
        cert: options.cert,
        caFiles: options.ca,
        testPki: options.testPki,
        ocsp: options.ocsp,
        crlFiles: options.crl,
        at,
      });
      if (options.json) printJson(report);
      else writeOut(humanReport(report));
      if (!report.valid) throw new ExitRequest(1);
    });
}

type Report = import("../lib/verify/mod.ts").VerifyReport;

/** The verdict line (with the revocation status when checked), then each problem on its own line. */
function humanReport(report: Report): string {
  const signer = report.signer;
  const who = signer ? `${signer.commonName} (${signatureKind(report)})` : "an unknown signer";
  const when = report.signingTime ? ` at ${report.signingTime.slice(0, 16).replace("T", " ")} UTC` : "";
  const revocation = report.revocation === "not-checked" ? "" : `; revocation: ${report.revocation}`;
  let verdict: string;
  if (report.valid) verdict = `valid: signed by ${who}${when}${revocation}`;
  else {
    const failed: string[] = [];
    if (!report.signatureValid) failed.push("the signature does not hold");
    if (!report.chainValid) failed.push("the certificate chain is not valid or not trusted");
    if (report.revocation === "revoked") failed.push("the certificate is revoked");
    if (failed.length === 0) failed.push("see below");
    verdict = `invalid: ${failed.join("; ")} (signed by ${who}${when})`;
  }
  return [verdict, ...report.problems.map((p) => `  - ${p}`)].join("\n") + "\n";
}

function signatureKind(report: Report): string {
  const usage = report.signer?.keyUsage;
  if (report.signer?.qualified) return "qualified signature";
  if (usage === null || usage === undefined) return "no key usage restriction, not a qualified signature";
  if (usage.includes("digitalSignature")) return "digitalSignature key, not a qualified signature";
  return "not a signing key";
}
