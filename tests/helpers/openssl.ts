/**
 * Runs the `openssl` command line for tests and benchmarks: one runner that reports, one that must succeed, and the
 * `cms -sign` / `cms -verify` argument lists the TEST PKI (fixtures/pki/) is used with.
 *
 * @example
 * ```ts
 * import { opensslOk, opensslSign } from "./openssl.ts";
 * const sig = await opensslSign("v4-sign", "/tmp/data", "/tmp/data.p7s", { extra: ["-md", "sha384"] });
 * await opensslOk(["cms", "-cmsout", "-print", "-inform", "DER", "-in", sig]);
 * ```
 * @module
 */

import { ROOT } from "./run_kortti.ts";

/** The committed TEST PKI: `<name>.pem` certificates and their `<name>.TEST-KEY.pem` keys. */
export const TEST_PKI = `${ROOT}/fixtures/pki`;

/** What one openssl run gave. */
export interface OpensslRun {
  /** Exit code. */
  code: number;
  /** Whether it exited 0. */
  success: boolean;
  /** Standard output, as bytes (for DER written to standard output). */
  stdoutBytes: Uint8Array;
  /** Standard output, as text. */
  stdout: string;
  /** Standard error, as text. */
  stderr: string;
  /** Standard output followed by standard error, as text. */
  output: string;
}

/** Options of `openssl` and `opensslOk`. */
export interface OpensslOptions {
  /** Working directory (default: the test's own). */
  cwd?: string;
}

/**
 * Runs `openssl ARGS` and reports how it went; it never throws for a failing openssl, the caller judges.
 *
 * @example
 * ```ts
 * import { openssl } from "./openssl.ts";
 * const { code, output } = await openssl(["verify", "-CAfile", "root-ca.pem", "v4-sign.pem"], { cwd: "fixtures/pki" });
 * ```
 */
export async function openssl(args: string[], options: OpensslOptions = {}): Promise<OpensslRun> {
  const out = await new Deno.Command("openssl", { args, cwd: options.cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decoder = new TextDecoder();
  const stdout = decoder.decode(out.stdout);
  const stderr = decoder.decode(out.stderr);
  return { code: out.code, success: out.success, stdoutBytes: out.stdout, stdout, stderr, output: stdout + stderr };
}

/**
 * Runs `openssl ARGS`, which must succeed: throws with the arguments and what openssl printed otherwise. Returns
 * standard output followed by standard error.
 *
 * @example
 * ```ts
 * import { opensslOk } from "./openssl.ts";
 * await opensslOk(["x509", "-in", "fixtures/pki/v4-sign.pem", "-pubkey", "-noout", "-out", "/tmp/pub.pem"]);
 * ```
 */
export async function opensslOk(args: string[], options: OpensslOptions = {}): Promise<string> {
  const run = await openssl(args, options);
  if (!run.success) throw new Error(`openssl ${args.join(" ")}: exit ${run.code}: ${run.output}`);
  return run.output;
}

/** A certificate and its private key, as files. */
export interface Signer {
  cert: string;
  key: string;
}

/**
 * The certificate and key files of a TEST PKI identity.
 *
 * @example
 * ```ts
 * import { testPkiSigner } from "./openssl.ts";
 * const { cert, key } = testPkiSigner("org-sign"); // fixtures/pki/org-sign.pem, fixtures/pki/org-sign.TEST-KEY.pem
 * ```
 */
export function testPkiSigner(name: string): Signer {
  return { cert: `${TEST_PKI}/${name}.pem`, key: `${TEST_PKI}/${name}.TEST-KEY.pem` };
}

/** Options of `cmsSignArgs` and `opensslSign`. */
export interface CmsSignOptions {
  /** More `openssl cms` arguments, after the others (`["-md", "sha384"]`, `["-certfile", ca]`, `["-nodetach"]`). */
  extra?: string[];
  /** Encoding of the signature file (default DER). */
  outform?: "DER" | "PEM";
}

/**
 * The arguments of `openssl cms -sign -binary` over `input` into `out`, for a TEST PKI name or a signer's files.
 *
 * @example
 * ```ts
 * import { cmsSignArgs } from "./openssl.ts";
 * const argv = ["openssl", ...cmsSignArgs("v4-sign", "/tmp/data", "/tmp/data.p7s")];
 * ```
 */
export function cmsSignArgs(
  signer: string | Signer,
  input: string,
  out: string,
  options: CmsSignOptions = {},
): string[] {
  const { cert, key } = typeof signer === "string" ? testPkiSigner(signer) : signer;
  return [
    "cms",
    "-sign",
    "-binary",
    "-in",
    input,
    "-signer",
    cert,
    "-inkey",
    key,
    "-outform",
    options.outform ?? "DER",
    "-out",
    out,
    ...(options.extra ?? []),
  ];
}

/**
 * Signs `input` with `openssl cms -sign -binary` (detached unless `extra` says `-nodetach`) into `out`, which it
 * returns; throws if openssl fails.
 *
 * @example
 * ```ts
 * import { opensslSign } from "./openssl.ts";
 * const sig = await opensslSign("org-sign", "/tmp/data", "/tmp/org.p7s", { extra: ["-keyopt", "rsa_padding_mode:pss"] });
 * ```
 */
export async function opensslSign(
  signer: string | Signer,
  input: string,
  out: string,
  options: CmsSignOptions = {},
): Promise<string> {
  await opensslOk(cmsSignArgs(signer, input, out, options));
  return out;
}

/** Options of `cmsVerifyArgs`. */
export interface CmsVerifyOptions {
  /** The detached content; leave out when the CMS holds it. */
  content?: string;
  /** Where the verified content goes (default /dev/null). */
  out?: string;
}

/**
 * The arguments of `openssl cms -verify -binary` of a DER CMS against the trust anchors in `caFile`, any purpose.
 *
 * @example
 * ```ts
 * import { cmsVerifyArgs, opensslOk } from "./openssl.ts";
 * await opensslOk(cmsVerifyArgs("/tmp/data.p7s", "fixtures/pki/root-ca.pem", { content: "/tmp/data" }));
 * ```
 */
export function cmsVerifyArgs(sig: string, caFile: string, options: CmsVerifyOptions = {}): string[] {
  return [
    "cms",
    "-verify",
    "-binary",
    "-inform",
    "DER",
    "-in",
    sig,
    ...(options.content === undefined ? [] : ["-content", options.content]),
    "-CAfile",
    caFile,
    "-purpose",
    "any",
    "-out",
    options.out ?? "/dev/null",
  ];
}
