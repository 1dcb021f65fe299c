/**
 * `kortti post-url`: the erasmartcardpost:// URL handler. Posts the URL's parameters (with `{PORT}` replaced by the
 * erasmartcard port) to its target, retrying; `--register` / `--unregister` install or remove kortti as the
 * desktop's handler of such URLs.
 * @module
 */

import { Command, Option } from "commander";
import { UsageError } from "../lib/errors.ts";
import { writeErr, writeOut } from "./output.ts";

interface PostUrlOptions {
  port?: string;
  retries: string;
  retryWait: string;
  allowHttp?: boolean;
  caFile?: string;
  timeout: string;
  dataDir?: string;
  register?: boolean;
  unregister?: boolean;
}

/** The `post-url` command. */
export function postUrlCommand(): Command {
  return new Command("post-url")
    .description("the erasmartcardpost:// URL handler: POSTs the URL's parameters to its target")
    .argument("[url]", "an erasmartcardpost:// (or erasmartcardpost:) URL")
    .option("--port <n>", "erasmartcard port for {PORT} (default: the running serve's, else 44304)")
    .option("--retries <n>", "retries after a failed POST", "10")
    .option("--retry-wait <duration>", "wait after each failure (e.g. 2s, 500ms)", "2s")
    .option("--timeout <duration>", "time limit of one attempt", "15s")
    .option("--allow-http", "allow a plain-http target that is not on loopback")
    .option("--ca-file <pem>", "also trust this CA (PEM) for the https target; env KORTTI_POSTURL_CA_FILE (tests)")
    .option("--data-dir <dir>", "serve's data directory, where it records its erasmartcard port")
    .addOption(
      new Option("--register", "make kortti the desktop's erasmartcardpost:// handler").conflicts("unregister"),
    )
    .option("--unregister", "remove kortti as the erasmartcardpost:// handler")
    .addHelpText(
      "after",
      "\nExample:\n  kortti post-url 'erasmartcardpost://https://www.example.fi/PortData?type=json&eraScPort={PORT}'",
    )
    .action(async (url: string | undefined, options: PostUrlOptions) => {
      if (options.register || options.unregister) {
        if (url !== undefined) throw new UsageError("--register and --unregister take no URL");
        if (Deno.build.os === "darwin" || Deno.build.os === "windows") {
          throw new UsageError("--register and --unregister set up freedesktop.org (Linux) desktops", {
            hint: `on ${
              Deno.build.os === "darwin" ? "macOS" : "Windows"
            } follow the README's 'erasmartcardpost:// links'`,
          });
        }
        await (options.register ? register() : unregister());
        return;
      }
      if (url === undefined) throw new UsageError("no URL given", { hint: "kortti post-url 'erasmartcardpost://…'" });
      await post(url, options);
    });
}

async function post(url: string, options: PostUrlOptions): Promise<void> {
  const posturl = await import("../lib/posturl.ts");
  const retries = nonNegativeInteger(options.retries, "--retries");
  const retryWaitMs = duration(posturl.parseDuration, options.retryWait, "--retry-wait");
  const timeoutMs = duration(posturl.parseDuration, options.timeout, "--timeout");
  const port = options.port !== undefined
    ? portNumber(options.port)
    : await posturl.recordedEraPort(options.dataDir) ?? posturl.DEFAULT_ERA_PORT;
  const request = posturl.parseEraPostUrl(url, port);
  posturl.assertTargetAllowed(request.target, { allowHttp: options.allowHttp === true });
  const { body, contentType } = posturl.encodePostBody(request.params, request.format);
  const caFile = options.caFile ?? Deno.env.get("KORTTI_POSTURL_CA_FILE");
  const caCerts = caFile ? [await posturl.readCaFile(caFile)] : undefined;

  writeOut(`POST ${request.target.href}\nContent-Type: ${contentType}\n\n${body}\n`);
  const result = await posturl.postWithRetries(
    { url: request.target, body, contentType },
    {
      retries,
      retryWaitMs,
      timeoutMs,
      caCerts,
      onFailure: (failure) =>
        writeErr(
          `kortti: attempt ${failure.attempt} of ${failure.attempts} failed (${failure.reason})` +
            (failure.willRetry ? `; retrying in ${options.retryWait}\n` : "\n"),
        ),
    },
  );
  writeOut(`posted: HTTP ${result.status} (attempt ${result.attempt})\n`);
}

async function register(): Promise<void> {
  const { registerUrlHandler, ERA_POST_MIME_TYPE } = await import("../lib/url-handler.ts");
  const done = await registerUrlHandler({ exec: [handlerExecutable(), "post-url"] });
  writeOut(`wrote ${done.desktopFile} (${ERA_POST_MIME_TYPE})\n`);
  if (done.madeDefault) {
    writeOut(`made it the default handler with xdg-mime: erasmartcardpost:// links now open 'kortti post-url'\n`);
  } else {
    writeOut(
      `could not make it the default handler (${done.defaultProblem}): ` +
        `install xdg-utils and run 'kortti post-url --register' again, or choose kortti when the browser asks\n`,
    );
  }
}

async function unregister(): Promise<void> {
  const { unregisterUrlHandler } = await import("../lib/url-handler.ts");
  const done = await unregisterUrlHandler();
  writeOut(done.removedFile ? `removed ${done.removedFile}\n` : "kortti was not registered (no desktop entry)\n");
  if (done.removedDefault) writeOut("removed kortti's default association from mimeapps.list\n");
}

/**
 * The program the desktop should start: the compiled binary itself, or, when running under Deno from a checkout,
 * the checkout's `kortti` launcher (starting bare `deno` would not run kortti).
 */
function handlerExecutable(): string {
  const exec = Deno.execPath();
  const name = exec.split(/[\\/]/).pop() ?? "";
  if (!/^deno(\.exe)?$/i.test(name)) return exec;
  const launcher = new URL("../kortti", import.meta.url);
  if (launcher.protocol === "file:") {
    const path = decodeURIComponent(launcher.pathname);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // fall through: no launcher next to the sources
    }
  }
  throw new UsageError("cannot tell which program to register: no kortti launcher or binary found", {
    hint: "run it as ./kortti from the checkout, or from the installed binary",
  });
}

function nonNegativeInteger(text: string, option: string): number {
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`${option} wants a whole number, not '${text}'`);
  return Number(text);
}

function portNumber(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (port < 1 || port > 65535) throw new UsageError(`--port wants a port number (1-65535), not '${text}'`);
  return port;
}

function duration(parse: (text: string) => number | undefined, text: string, option: string): number {
  const ms = parse(text);
  if (ms === undefined) throw new UsageError(`${option} wants a duration such as 2s or 500ms, not '${text}'`);
  return ms;
}
