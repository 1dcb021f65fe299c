/**
 * Test helpers for `kortti serve`: start it as a user would (`./kortti serve --virtual-card ...`) with a scriptable
 * pinentry, wait until it answers, talk to it over TLS trusting its own local CA, and stop it.
 *
 * @example
 * ```ts
 * import { startServe } from "./serve.ts";
 * const serve = await startServe({ origins: ["https://app.example.test"] });
 * const answer = await serve.request("/version", { origin: "https://app.example.test" });
 * await serve.stop();
 * ```
 * @module
 */

import { ROOT } from "./run_kortti.ts";
import { assertEquals } from "./assert.ts";

const PKI = `${ROOT}/fixtures/pki`;

/** Options of `startServe`. */
export interface StartServeOptions {
  /** Allowed origins. */
  origins?: string[];
  /** Virtual card profile (default v4); null for a PC/SC reader (then pass `--reader` in `args`). */
  profile?: "v3" | "v4" | "org" | null;
  /** SCS port (default 53960: tests never take the real 53952, which a user's service may hold). */
  port?: number;
  /** Extra arguments. */
  args?: string[];
  /** Data directory (default: a new temporary one). */
  dataDir?: string;
  /** The PIN the test pinentry answers (default: the virtual card's, by key), or `CANCEL`. */
  pin?: string;
  /** Python lines run when GETPIN arrives, before answering (e.g. to pull the card at that moment). */
  onGetPin?: string;
}

/** A running serve. */
export interface RunningServe {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** The port. */
  port: number;
  /** Data directory. */
  dataDir: string;
  /** Temporary directory of this run (pinentry script, PIN file, logs). */
  dir: string;
  /** The local CA, PEM. */
  caPem: string;
  /** An HTTP client trusting the local CA. */
  client: Deno.HttpClient;
  /** The process. */
  child: Deno.ChildProcess;
  /** Sets what the pinentry answers next: a PIN or `CANCEL`. */
  setPin(pin: string): Promise<void>;
  /** What the pinentry was told so far. */
  pinentryLog(): Promise<string>;
  /** Everything serve wrote to stderr so far. */
  stderr(): string;
  /** Sends a request; `origin` null sends none. */
  // deno-lint-ignore no-explicit-any
  request(path: string, init?: ServeRequestInit): Promise<{ status: number; headers: Headers; json: any }>;
  /** SIGTERM, then waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
}

/** A request to serve. */
export interface ServeRequestInit {
  /** Origin header; null for none. */
  origin?: string | null;
  /** HTTP method (default GET, or POST with a body). */
  method?: string;
  /** Body (a value is JSON-encoded). */
  body?: unknown;
  /** More headers. */
  headers?: Record<string, string>;
}

/** A pinentry that answers GETPIN with the content of $TEST_PIN_FILE (CANCEL cancels) and logs what it is told. */
const PINENTRY = `#!/usr/bin/env python3
import os, sys, time
log = open(os.environ["TEST_PINENTRY_LOG"], "a")
print("OK Pleased to meet you", flush=True)
for line in sys.stdin:
    line = line.rstrip("\\n"); log.write(line + "\\n"); log.flush()
    cmd = line.split(" ", 1)[0].upper()
    if cmd == "GETPIN":
        ON_GETPIN
        pin = open(os.environ["TEST_PIN_FILE"]).read().strip()
        if pin == "CANCEL":
            print("ERR 83886179 Operation cancelled <Pinentry>", flush=True)
        else:
            print("D " + pin, flush=True); print("OK", flush=True)
    elif cmd == "BYE":
        print("OK closing connection", flush=True); break
    else:
        print("OK", flush=True)
`;

/**
 * Starts `./kortti serve --virtual-card` and waits until `/version` answers.
 *
 * @example
 * ```ts
 * import { startServe } from "./serve.ts";
 * const serve = await startServe({ profile: "v3", port: 53960 });
 * await serve.stop();
 * ```
 */
export async function startServe(options: StartServeOptions = {}): Promise<RunningServe> {
  const dir = await Deno.makeTempDir({ prefix: "kortti-serve-test-" });
  const dataDir = options.dataDir ?? `${dir}/data`;
  const port = options.port ?? 53960;
  const pinentry = `${dir}/pinentry`;
  const hook = (options.onGetPin ?? "pass").split("\n").join("\n        ");
  await Deno.writeTextFile(pinentry, PINENTRY.replace("ON_GETPIN", hook), { mode: 0o755 });
  const pinFile = `${dir}/pin`;
  await Deno.writeTextFile(pinFile, options.pin ?? "123456");
  const origins = options.origins ?? ["https://app.example.test"];
  const args = [
    "serve",
    ...(options.profile === null ? [] : [`--virtual-card=${options.profile ?? "v4"}`]),
    "--scs-port",
    String(port),
    "--no-era",
    "--data-dir",
    dataDir,
    "--pin-dialog",
    "pinentry",
    "--pinentry",
    pinentry,
    ...origins.flatMap((o) => ["--allow-origin", o]),
    ...(options.args ?? []),
  ];
  const child = new Deno.Command(`${ROOT}/kortti`, {
    args,
    env: {
      TEST_PIN_FILE: pinFile,
      TEST_PINENTRY_LOG: `${dir}/pinentry.log`,
      HOME: `${dir}/home`,
      XDG_DATA_HOME: `${dir}/xdg`,
      // V8 flags for the server only (e.g. --max-old-space-size=40 to show that its live heap stays small).
      ...(Deno.env.get("SERVE_V8_FLAGS") ? { DENO_V8_FLAGS: Deno.env.get("SERVE_V8_FLAGS")! } : {}),
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let stderrText = "";
  const decoder = new TextDecoder();
  const stderrDone = (async () => {
    for await (const chunk of child.stderr) stderrText += decoder.decode(chunk, { stream: true });
  })();
  child.stdout.cancel().catch(() => {});
  let caPem = "";
  let client: Deno.HttpClient | undefined;
  const url = `https://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      await stderrDone.catch(() => {});
      throw new Error(`serve did not come up:\n${stderrText}`);
    }
    await new Promise((r) => setTimeout(r, 100));
    try {
      if (!client) {
        caPem = await Deno.readTextFile(`${dataDir}/tls/ca.pem`);
        client = Deno.createHttpClient({ caCerts: [caPem] });
      }
      const r = await fetch(`${url}/version`, { client, headers: { Origin: origins[0] ?? "null" } });
      await r.body?.cancel();
      if (r.status === 200) break;
    } catch { /* not yet */ }
  }
  const running: RunningServe = {
    url,
    port,
    dataDir,
    dir,
    caPem,
    client: client!,
    child,
    setPin: (pin) => Deno.writeTextFile(pinFile, pin),
    pinentryLog: () => Deno.readTextFile(`${dir}/pinentry.log`).catch(() => ""),
    stderr: () => stderrText,
    async request(path, init = {}) {
      const headers = new Headers(init.headers ?? {});
      const origin = init.origin === undefined ? origins[0] : init.origin;
      if (origin !== null && origin !== undefined) headers.set("Origin", origin);
      let body: BodyInit | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === "string" || init.body instanceof Uint8Array
          ? init.body as BodyInit
          : JSON.stringify(init.body);
        if (!headers.has("content-type")) headers.set("Content-Type", "application/json");
      }
      const response = await fetch(`${url}${path}`, {
        client: running.client,
        method: init.method ?? (body === undefined ? "GET" : "POST"),
        headers,
        body,
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text === "" ? undefined : JSON.parse(text);
      } catch {
        json = { unparsable: text };
      }
      return { status: response.status, headers: response.headers, json };
    },
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* gone */ }
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const status = await child.status;
      clearTimeout(timer);
      await stderrDone.catch(() => {});
      running.client.close();
      return status.code;
    },
  };
  return running;
}

/**
 * Runs a command and returns its exit code, stdout and stderr.
 *
 * @example
 * ```ts
 * import { run } from "./serve.ts";
 * const { code } = await run("openssl", ["version"]);
 * ```
 */
export async function run(
  program: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

/**
 * Base64 of bytes or text.
 *
 * @example
 * ```ts
 * import { b64 } from "./serve.ts";
 * console.log(b64("hi")); // aGk=
 * ```
 */
export function b64(data: Uint8Array | string): string {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/**
 * Bytes of base64.
 *
 * @example
 * ```ts
 * import { unb64 } from "./serve.ts";
 * console.log(unb64("aGk=").length); // 2
 * ```
 */
export function unb64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Converts an ECDSA r‖s signature to DER, for openssl.
 *
 * @example
 * ```ts
 * import { rawToDer } from "./serve.ts";
 * console.log(rawToDer(new Uint8Array(64).fill(1))[0]); // 0x30
 * ```
 */
export function rawToDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const integer = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let v = bytes.slice(i);
    if (v[0] & 0x80) v = Uint8Array.from([0, ...v]);
    return Uint8Array.from([0x02, v.length, ...v]);
  };
  const body = Uint8Array.from([...integer(raw.slice(0, half)), ...integer(raw.slice(half))]);
  return body.length < 0x80
    ? Uint8Array.from([0x30, body.length, ...body])
    : Uint8Array.from([0x30, 0x81, body.length, ...body]);
}

/**
 * A PEM certificate from base64 DER.
 *
 * @example
 * ```ts
 * import { pemOf } from "./serve.ts";
 * console.log(pemOf("MIIB...").startsWith("-----BEGIN CERTIFICATE-----"));
 * ```
 */
export function pemOf(derBase64: string): string {
  return `-----BEGIN CERTIFICATE-----\n${derBase64.replace(/.{64}/g, "$&\n")}\n-----END CERTIFICATE-----\n`;
}

/** Writes a file in `dir` and returns its path. */
async function tempFile(dir: string, name: string, data: Uint8Array | string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, typeof data === "string" ? new TextEncoder().encode(data) : data);
  return path;
}

/**
 * Verifies a base64 CMS signature over `content` with openssl against the test PKI root.
 *
 * @example
 * ```ts
 * import { verifyCms } from "./serve.ts";
 * declare const signature: string;
 * await verifyCms("/tmp", signature, new Uint8Array([1]));
 * ```
 */
export async function verifyCms(dir: string, signature: string, content: Uint8Array): Promise<void> {
  const sig = await tempFile(dir, "s.p7s", unb64(signature));
  const data = await tempFile(dir, "cms-content", content);
  const out = await run("openssl", [
    "cms",
    "-verify",
    "-binary",
    "-inform",
    "DER",
    "-in",
    sig,
    "-content",
    data,
    "-CAfile",
    `${PKI}/root-ca.pem`,
    "-purpose",
    "any",
    "-out",
    "/dev/null",
  ]);
  assertEquals(out.code, 0, `openssl cms -verify: ${out.stderr}`);
}

/**
 * Verifies a raw signature (DER for ECDSA) over `content` with openssl and the leaf certificate's public key.
 *
 * @example
 * ```ts
 * import { verifyRaw } from "./serve.ts";
 * declare const sig: Uint8Array, leaf: string;
 * await verifyRaw("/tmp", sig, leaf, "sha256", new Uint8Array([1]));
 * ```
 */
export async function verifyRaw(
  dir: string,
  signature: Uint8Array,
  leafBase64: string,
  hash: string,
  content: Uint8Array,
  pss = false,
): Promise<void> {
  const cert = await tempFile(dir, "leaf.pem", pemOf(leafBase64));
  const pub = await run("openssl", ["x509", "-in", cert, "-pubkey", "-noout"]);
  const pubPath = await tempFile(dir, "pub.pem", pub.stdout);
  const sig = await tempFile(dir, "sig", signature);
  const data = await tempFile(dir, "raw-data", content);
  const args = ["dgst", `-${hash}`, "-verify", pubPath, "-signature", sig];
  if (pss) args.push("-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1");
  const out = await run("openssl", [...args, data]);
  assertEquals(out.code, 0, `openssl dgst -verify: ${out.stdout} ${out.stderr}`);
}
