/**
 * The verification engine behind `verifySignature` (mod.ts): reads the signature, checks it (CMS or raw), the
 * signer's key usage, the chain to a trust anchor and revocation, and reports each check separately. Nothing here
 * prints or exits.
 *
 * @example
 * ```ts
 * import { verifyNow } from "./verify.ts";
 * const report = await verifyNow({ input: "contract.pdf", signature: "contract.p7s", testPki: true });
 * console.log(report.valid, report.problems);
 * ```
 * @module
 */

import { InputFormatError, IoError, UsageError } from "../errors.ts";
import { type CertInfo, readCertificates } from "./cert.ts";
import { buildChain, findIssuer, type TimeSource } from "./chain.ts";
import { checkCmsSigner, looksLikeCms, parseCms } from "./cms.ts";
import { checkCrls, readCrl } from "./crl.ts";
import { hashBytes, hashFile } from "./hash.ts";
import { checkOcsp, type RevocationAnswer } from "./ocsp.ts";
import { checkRawSignature } from "./raw.ts";

import {
  defaultTrustDir,
  type SignerReport,
  type VerifyFormat,
  type VerifyOptions,
  type VerifyReport,
} from "./options.ts";

/** The virtual card's test PKI, trusted under `--test-pki` (root) and used for intermediates. */
const TEST_PKI = new URL("../../fixtures/pki/", import.meta.url);

/**
 * Verifies a signature and reports every check. Throws `UsageError` (exit 2) for contradictory options and
 * `IoError`/`InputFormatError` (exit 7) for unreadable or malformed files; a signature that does not hold is a
 * report with `valid: false`, not an error.
 *
 * @example
 * ```ts
 * import { verifyNow } from "./verify.ts";
 * const r = await verifyNow({ input: "data.bin", signature: "data.p7s", caFiles: ["root.pem"] });
 * if (!r.valid) console.log(r.problems.join("\n"));
 * ```
 */
export async function verifyNow(options: VerifyOptions): Promise<VerifyReport> {
  const now = options.now ?? new Date();
  const sigPath = options.signature;
  if (options.format === "cms-detached" && !sigPath) {
    throw new UsageError("--format cms-detached needs the signature with --sig and the content with --in");
  }
  if (options.format === "raw" && (!sigPath || !options.cert)) {
    throw new UsageError("--format raw needs --sig (the signature) and --cert (the signer certificate)");
  }
  const cmsPath = sigPath ?? options.input;
  const cmsBytes = readFile(cmsPath);
  const givenCert = options.cert ? readCertificates(readFile(options.cert), options.cert)[0] : undefined;
  const trust = loadTrust(options);
  let format: VerifyFormat;
  if (options.format) format = options.format;
  else if (looksLikeCms(cmsBytes)) format = sigPath ? "cms-detached" : "cms";
  else if (sigPath && givenCert) format = "raw";
  else {
    throw new InputFormatError(
      `${cmsPath} is not a CMS signature (neither PEM nor DER SignedData)` +
        (sigPath ? "; for a raw signature give the signer certificate with --cert" : ""),
    );
  }
  const checked = format === "raw"
    ? checkRaw(options, cmsBytes, givenCert!)
    : await checkCms(options, cmsBytes, cmsPath, givenCert);
  const { signatureValid, signerCert, signingTime, signatureAlgorithm, contentMatches } = checked;
  const problems = [...checked.problems];

  let chainValid = false;
  let chain: CertInfo[] = [];
  let issuer: CertInfo | undefined;
  let qualified = false;
  let usageOk = true;
  if (signerCert) {
    const usage = keyUsageProblem(signerCert);
    qualified = usage.qualified;
    usageOk = usage.problem === undefined;
    if (usage.problem) problems.push(usage.problem);
    const timeSource: TimeSource = options.at ? "at" : signingTime ? "signing-time" : "now";
    const at = options.at ?? signingTime ?? now;
    const intermediates = [...checked.certificates, ...trust.intermediates, ...(givenCert ? [givenCert] : [])];
    const result = buildChain(signerCert, { anchors: trust.anchors, intermediates, at, timeSource });
    chainValid = result.valid;
    chain = result.chain;
    problems.push(...result.problems);
    issuer = chain[1] ?? findIssuer(signerCert, [...trust.anchors, ...intermediates]);
  }

  const revocation = await checkRevocation(signerCert, issuer, options, now);
  if (revocation) problems.push(...revocation.problems);
  const revocationStatus = revocation?.status ?? "not-checked";
  return {
    valid: signatureValid && chainValid && usageOk && contentMatches && revocationStatus !== "revoked",
    signatureValid,
    chainValid,
    signer: signerCert ? signerReport(signerCert, qualified) : null,
    signingTime: signingTime ? signingTime.toISOString() : null,
    revocation: revocationStatus,
    problems,
    format,
    signatureAlgorithm: signatureAlgorithm ?? null,
    chain: chain.map((c) => c.subject),
  };
}

/** What the signature part of verification found. */
interface SignatureFindings {
  signatureValid: boolean;
  signerCert?: CertInfo;
  signingTime?: Date;
  signatureAlgorithm?: string;
  /** Certificates the signature carries (CMS), candidates for the chain. */
  certificates: CertInfo[];
  /** False when `--in` differs from the content inside an attached CMS. */
  contentMatches: boolean;
  problems: string[];
}

function checkRaw(options: VerifyOptions, signature: Uint8Array, cert: CertInfo): SignatureFindings {
  const check = checkRawSignature({ path: options.input }, signature, cert);
  return { ...check, signerCert: cert, certificates: [], contentMatches: true };
}

async function checkCms(
  options: VerifyOptions,
  cmsBytes: Uint8Array,
  cmsPath: string,
  givenCert: CertInfo | undefined,
): Promise<SignatureFindings> {
  const cms = parseCms(cmsBytes, cmsPath);
  const algorithm = cms.digestAlgorithm;
  const problems: string[] = [];
  let contentMatches = true;
  let digest: Uint8Array;
  if (cms.content) {
    digest = hashBytes(cms.content, [algorithm]).get(algorithm)!;
    if (options.signature) {
      // Both an attached CMS and --in: they must be the same content.
      contentMatches = sameBytes(hashFile(options.input, [algorithm]).get(algorithm)!, digest);
      if (!contentMatches) problems.push(`${options.input} differs from the content inside the CMS`);
    }
  } else if (!options.signature) {
    throw new InputFormatError(
      `${cmsPath} is a detached signature without the content: give the content with --in and the signature with --sig`,
    );
  } else {
    digest = await contentDigest(options, algorithm);
  }
  const check = checkCmsSigner(
    cms,
    { digest, bytes: cms.content, readContent: () => readFile(options.input) },
    givenCert ? [givenCert] : [],
  );
  return { ...check, certificates: cms.certificates, contentMatches, problems: [...problems, ...check.problems] };
}

async function checkRevocation(
  cert: CertInfo | undefined,
  issuer: CertInfo | undefined,
  options: VerifyOptions,
  now: Date,
): Promise<RevocationAnswer | undefined> {
  const crlFiles = options.crlFiles ?? [];
  if (!options.ocsp && crlFiles.length === 0) return undefined;
  if (!cert) return { status: "unknown", problems: [] };
  const answers: RevocationAnswer[] = [];
  if (crlFiles.length > 0) {
    const crls = crlFiles.map((path) => readCrl(readFile(path), path));
    answers.push(checkCrls(cert, issuer, crls, now));
  }
  if (options.ocsp) {
    answers.push(
      issuer
        ? await checkOcsp(cert, issuer, { url: options.ocspUrl, at: now })
        : { status: "unknown", problems: ["OCSP: the issuer certificate is not at hand to ask about the signer"] },
    );
  }
  const revoked = answers.find((a) => a.status === "revoked");
  if (revoked) return revoked;
  const good = answers.some((a) => a.status === "good");
  return {
    status: good ? "good" : "unknown",
    // With one source good, the other's failure is still worth a line, but says so.
    problems: answers.flatMap((a) => a.problems),
  };
}

/** Key usage fit for signing: nonRepudiation (a qualified signature) or digitalSignature; say which. */
function keyUsageProblem(cert: CertInfo): { qualified: boolean; problem?: string } {
  if (cert.keyUsage === null) return { qualified: false };
  if (cert.keyUsage.includes("nonRepudiation")) return { qualified: true };
  if (cert.keyUsage.includes("digitalSignature")) return { qualified: false };
  return {
    qualified: false,
    problem: `the signer certificate's key usage (${cert.keyUsage.join(", ") || "none"}) allows neither ` +
      "nonRepudiation nor digitalSignature: it is not a signing key",
  };
}

function signerReport(cert: CertInfo, qualified: boolean): SignerReport {
  return {
    subject: cert.subject,
    issuer: cert.issuer,
    commonName: cert.commonName,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    keyUsage: cert.keyUsage,
    qualified,
    qcCompliance: cert.qcCompliance,
  };
}

interface Trust {
  anchors: CertInfo[];
  intermediates: CertInfo[];
}

/** Anchors are the self-signed certificates of --ca files, the trust directory and --test-pki; the rest help. */
function loadTrust(options: VerifyOptions): Trust {
  const certs: CertInfo[] = [];
  for (const path of options.caFiles ?? []) certs.push(...readCertificates(readFile(path), path));
  const dir = options.trustDir === undefined ? defaultTrustDir() : options.trustDir;
  if (dir) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      // No trust directory: no default anchors.
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.name.endsWith(".pem")) continue;
      try {
        certs.push(...readCertificates(Deno.readFileSync(`${dir}/${entry.name}`), `${dir}/${entry.name}`));
      } catch {
        // A broken file in the trust directory must not stop verification of everything else.
      }
    }
  }
  const intermediates: CertInfo[] = [];
  if (options.testPki) {
    const root = new URL("root-ca.pem", TEST_PKI);
    certs.push(...readCertificates(readFile(root), "the test PKI root"));
    for (const name of ["citizen-ca.pem", "org-ca.pem"]) {
      try {
        intermediates.push(...readCertificates(Deno.readFileSync(new URL(name, TEST_PKI)), name));
      } catch {
        // Intermediates only help; the CMS usually carries them.
      }
    }
  }
  return {
    anchors: certs.filter((c) => c.selfIssued),
    intermediates: [...intermediates, ...certs.filter((c) => !c.selfIssued)],
  };
}

function readFile(path: string | URL): Uint8Array {
  try {
    return Deno.readFileSync(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new IoError(`cannot read ${path instanceof URL ? path.pathname : path} (${why})`, { cause: error });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The content's digest: the one computed ahead when it used the right algorithm, else computed now. */
async function contentDigest(options: VerifyOptions, algorithm: string): Promise<Uint8Array> {
  const ahead = options.contentDigests ? await options.contentDigests : undefined;
  if (ahead && "error" in ahead) throw ahead.error;
  return ahead?.digests.get(algorithm) ?? hashFile(options.input, [algorithm]).get(algorithm)!;
}
