/**
 * The `erasmartcardpost:` URL protocol of the Atostek ID integration guide: a web page opens
 * `erasmartcardpost://https://www.example.fi/PortData?type=json&eraScPort={PORT}&userId=1234321` and the handler
 * POSTs the parameters (with `{PORT}` replaced by the erasmartcard port) to the target as a flat JSON object or an
 * XML `<result>` document, retrying after failures.
 *
 * Because any web page can open such a URL, the target must be `https` unless it is on loopback (or the caller
 * allows plain http explicitly), and XML values are escaped.
 *
 * @example
 * ```ts
 * import { encodePostBody, parseEraPostUrl, postWithRetries } from "./posturl.ts";
 * const request = parseEraPostUrl("erasmartcardpost://https://www.example.fi/PortData?eraScPort={PORT}", 44304);
 * const { body, contentType } = encodePostBody(request.params, request.format);
 * await postWithRetries({ url: request.target, body, contentType }, { retries: 10, retryWaitMs: 2000 });
 * ```
 * @module
 */

import { IoError, NetworkError, UsageError } from "./errors.ts";
import { defaultDataDir } from "./serve/files.ts";
import { escapeXmlText, XML_FORBIDDEN } from "./xml.ts";

/** The erasmartcard listener's port when nothing else says otherwise. */
export const DEFAULT_ERA_PORT = 44304;

/** The file in serve's data directory that records the port its erasmartcard listener is on (lib/serve/era.ts). */
export const ERA_PORT_FILE = "era-port";

/**
 * The erasmartcard port a running `kortti serve` recorded in its data directory, or undefined when there is none
 * (no serve ran, or the file does not hold a port).
 *
 * @example
 * ```ts
 * import { DEFAULT_ERA_PORT, recordedEraPort } from "./posturl.ts";
 * const port = await recordedEraPort() ?? DEFAULT_ERA_PORT;
 * ```
 */
export async function recordedEraPort(dataDir = defaultDataDir()): Promise<number | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${dataDir}/${ERA_PORT_FILE}`);
  } catch {
    return undefined;
  }
  const port = /^\s*(\d{1,5})\s*$/.exec(text) ? Number(text.trim()) : NaN;
  return port >= 1 && port <= 65535 ? port : undefined;
}

/**
 * Reads a CA certificate file (PEM) to trust for the https target besides the system's (for tests).
 *
 * @example
 * ```ts
 * import { readCaFile } from "./posturl.ts";
 * const pem = await readCaFile("/tmp/test-ca.pem");
 * ```
 */
export async function readCaFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new IoError(`cannot read the CA file ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new IoError(`${path} holds no PEM certificate`, { hint: "give a CA certificate in PEM form" });
  }
  return text;
}

/** How the parameters are posted: `json` (the default) or `xml`. */
export type PostFormat = "json" | "xml";

/** What an `erasmartcardpost:` URL asks for. */
export interface EraPostRequest {
  /** Where to POST: the target URL without its query and fragment. */
  target: URL;
  /** Body format, from the `type` parameter (which is not sent). */
  format: PostFormat;
  /** The parameters to send, in URL order, `{PORT}` already replaced; a repeated name keeps its last value. */
  params: Array<[string, string]>;
}

const SCHEME = /^erasmartcardpost:(\/\/)?/i;
// `{PORT}` as written, or percent-encoded by a browser before it reached us.
const PORT_PLACEHOLDER = /\{PORT\}|%7BPORT%7D/gi;
// A scheme-relative target after the prefix: `https://`, or `https//` as browsers serialize
// `erasmartcardpost://https://host` (they read `https` as a host with an empty port).
const TARGET_SCHEME = /^(https?):?\/\//i;

/**
 * Parses an `erasmartcardpost:` or `erasmartcardpost://` URL. `{PORT}` is replaced by `port`; a target without
 * `https://` or `http://` defaults to `https://`. Throws `UsageError` (exit 2) for anything else.
 *
 * @example
 * ```ts
 * import { parseEraPostUrl } from "./posturl.ts";
 * const r = parseEraPostUrl("erasmartcardpost:www.example.fi/P?type=xml&eraScPort={PORT}", 44304);
 * console.log(r.target.href, r.format, r.params); // https://www.example.fi/P xml [["eraScPort","44304"]]
 * ```
 */
export function parseEraPostUrl(text: string, port: number): EraPostRequest {
  const trimmed = text.trim();
  const scheme = SCHEME.exec(trimmed);
  if (!scheme) {
    throw new UsageError(`not an erasmartcardpost URL: ${quoteForMessage(trimmed)}`, {
      hint: "give a URL starting with erasmartcardpost:// (or erasmartcardpost:), e.g. " +
        "'erasmartcardpost://https://www.example.fi/PortData?eraScPort={PORT}'",
      details: { url: trimmed },
    });
  }
  const rest = trimmed.slice(scheme[0].length).replace(PORT_PLACEHOLDER, String(port));
  const targetScheme = TARGET_SCHEME.exec(rest);
  const absolute = targetScheme
    ? `${targetScheme[1].toLowerCase()}://${rest.slice(targetScheme[0].length)}`
    : `https://${rest.replace(/^\/+/, "")}`;
  let url: URL;
  try {
    url = new URL(absolute);
  } catch {
    throw new UsageError(`the target of the erasmartcardpost URL is not a valid URL: ${quoteForMessage(absolute)}`, {
      details: { url: trimmed },
    });
  }
  if (url.hostname === "") {
    throw new UsageError(`the erasmartcardpost URL names no host: ${quoteForMessage(trimmed)}`);
  }
  let format: PostFormat = "json";
  const values = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    if (name === "type") {
      const asked = value.toLowerCase();
      if (asked !== "json" && asked !== "xml") {
        throw new UsageError(`type=${quoteForMessage(value)} is not supported`, { hint: "use type=json or type=xml" });
      }
      format = asked;
      continue;
    }
    values.set(name, value);
  }
  const target = new URL(url.href);
  target.search = "";
  target.hash = "";
  return { target, format, params: [...values] };
}

/** Whether a URL's host is a loopback address (`localhost`, 127.0.0.0/8, `::1`). */
export function isLoopbackHost(url: URL): boolean {
  const host = url.hostname.toLowerCase();
  if (host === "localhost" || host === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Refuses a plain-http target unless it is on loopback or `allowHttp` is set: a web page can open an
 * erasmartcardpost URL, so what it posts must not travel in the clear. Throws `UsageError` (exit 2).
 *
 * @example
 * ```ts
 * import { assertTargetAllowed } from "./posturl.ts";
 * assertTargetAllowed(new URL("http://127.0.0.1:8080/P"), { allowHttp: false }); // fine: loopback
 * ```
 */
export function assertTargetAllowed(target: URL, options: { allowHttp: boolean }): void {
  if (target.protocol === "https:") return;
  if (target.protocol !== "http:") {
    throw new UsageError(`the erasmartcardpost target must be an https URL, not ${target.protocol}`);
  }
  if (options.allowHttp || isLoopbackHost(target)) return;
  throw new UsageError(`https is required: refusing to post in plain http to ${target.host}`, {
    hint: "use an https:// target (plain http is allowed only to loopback, or with --allow-http)",
    details: { url: target.href },
  });
}

/**
 * Escapes text for XML element content. Characters XML 1.0 cannot carry at all (most C0 controls) are refused with
 * a `UsageError`, since no escape exists for them; `\r` becomes `&#13;` so a parser does not normalize it away.
 *
 * @example
 * ```ts
 * import { escapeXml } from "./posturl.ts";
 * escapeXml(`<a href="x">&'`); // "&lt;a href=&quot;x&quot;&gt;&amp;&apos;"
 * ```
 */
export function escapeXml(text: string): string {
  if (XML_FORBIDDEN.test(text)) {
    throw new UsageError("a parameter holds a control character that XML cannot carry", {
      hint: "send it with type=json instead",
    });
  }
  return escapeXmlText(text);
}

// XML element names we are willing to write: a conservative subset of XML's Name production.
const XML_NAME = /^[A-Za-z_][A-Za-z0-9._-]*$/;

/**
 * The body to POST: a flat JSON object (`application/json`) or an XML `<result>` document (`application/xml`),
 * exactly as the integration guide's examples. Parameter names that are not plain XML names are refused in XML.
 *
 * @example
 * ```ts
 * import { encodePostBody } from "./posturl.ts";
 * encodePostBody([["eraScPort", "44304"], ["userId", "1234321"]], "xml").body;
 * // "<result><eraScPort>44304</eraScPort><userId>1234321</userId></result>"
 * ```
 */
export function encodePostBody(
  params: Array<[string, string]>,
  format: PostFormat,
): { body: string; contentType: string } {
  if (format === "json") {
    return { body: JSON.stringify(Object.fromEntries(params)), contentType: "application/json" };
  }
  const elements = params.map(([name, value]) => {
    if (!XML_NAME.test(name) || /^xml/i.test(name)) {
      throw new UsageError(`the parameter name ${quoteForMessage(name)} cannot be an XML element name`, {
        hint: "use letters, digits, '_', '-' and '.' in parameter names, or type=json",
      });
    }
    return `<${name}>${escapeXml(value)}</${name}>`;
  });
  return { body: `<result>${elements.join("")}</result>`, contentType: "application/xml" };
}

/**
 * Parses a duration such as `2s`, `500ms`, `1.5s`, `1m` or a bare number of seconds, into milliseconds.
 * Returns undefined when the text is not one.
 *
 * @example
 * ```ts
 * import { parseDuration } from "./posturl.ts";
 * parseDuration("2s"); // 2000
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/i.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? "s").toLowerCase();
  const factor = unit === "ms" ? 1 : unit === "s" ? 1000 : 60_000;
  return Math.round(Number(match[1]) * factor);
}

/** One POST to make. */
export interface PostRequest {
  /** The target. */
  url: URL;
  /** The body, as text (sent as UTF-8). */
  body: string;
  /** Its content type. */
  contentType: string;
}

/** How to retry, and whom to trust. */
export interface PostOptions {
  /** Retries after the first attempt (the guide: 10). */
  retries: number;
  /** Wait after each failed attempt before the next one, in ms (the guide: 2000). */
  retryWaitMs: number;
  /** Time limit of one attempt, in ms (default 15 s). */
  timeoutMs?: number;
  /** Extra CA certificates (PEM) to trust besides the system's, e.g. a test CA. */
  caCerts?: string[];
  /** Told of each failed attempt, and whether another one follows. */
  onFailure?: (failure: PostFailure) => void;
}

/** A failed attempt. */
export interface PostFailure {
  /** 1-based attempt number. */
  attempt: number;
  /** Total attempts allowed (retries + 1). */
  attempts: number;
  /** What went wrong, e.g. `HTTP 500` or the network error. */
  reason: string;
  /** Whether another attempt follows after the wait. */
  willRetry: boolean;
}

/** The successful answer. */
export interface PostResult {
  /** Its HTTP status (2xx). */
  status: number;
  /** Which attempt succeeded (1-based). */
  attempt: number;
}

/**
 * POSTs the request; a network or TLS error, a time-out or a non-2xx answer is a failure, retried after
 * `retryWaitMs` up to `retries` times. Redirects are not followed (they would escape the https check). Throws
 * `NetworkError` (exit 8) when every attempt failed.
 *
 * @example
 * ```ts
 * import { postWithRetries } from "./posturl.ts";
 * const result = await postWithRetries(
 *   { url: new URL("https://www.example.fi/PortData"), body: "{}", contentType: "application/json" },
 *   { retries: 10, retryWaitMs: 2000 },
 * );
 * console.log(result.status, result.attempt);
 * ```
 */
export async function postWithRetries(request: PostRequest, options: PostOptions): Promise<PostResult> {
  const attempts = Math.max(0, Math.floor(options.retries)) + 1;
  const client = options.caCerts?.length ? Deno.createHttpClient({ caCerts: options.caCerts }) : undefined;
  try {
    let lastReason = "";
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const reason = await attemptOnce(request, options.timeoutMs ?? 15_000, client);
      if (typeof reason === "number") return { status: reason, attempt };
      lastReason = reason;
      const willRetry = attempt < attempts;
      options.onFailure?.({ attempt, attempts, reason, willRetry });
      if (willRetry) await sleep(options.retryWaitMs);
    }
    throw new NetworkError(
      "POSTURL_GAVE_UP",
      `posting to ${request.url.href} failed ${attempts} ${attempts === 1 ? "time" : "times"} (last: ${lastReason})`,
      {
        hint: "check that the page's server is reachable, then open the link again",
        details: { url: request.url.href, attempts, lastError: lastReason },
      },
    );
  } finally {
    client?.close();
  }
}

/** One attempt: the 2xx status on success, else why it failed. */
async function attemptOnce(
  request: PostRequest,
  timeoutMs: number,
  client: Deno.HttpClient | undefined,
): Promise<number | string> {
  try {
    const response = await fetch(request.url, {
      method: "POST",
      headers: { "Content-Type": request.contentType },
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      ...(client ? { client } : {}),
    });
    await response.body?.cancel();
    if (response.status >= 200 && response.status < 300) return response.status;
    if (response.status >= 300 && response.status < 400) {
      return `HTTP ${response.status} redirect (not followed)`;
    }
    return `HTTP ${response.status}`;
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") return `no answer in ${timeoutMs} ms`;
    return describeFailure(error);
  }
}

/** The most telling line of a fetch failure: Deno puts the connection or TLS error in `cause`. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause.message : undefined;
  const text = cause ? cause.replace(/^error sending request for url \([^)]*\): /, "") : error.message;
  return text.split("\n")[0];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function quoteForMessage(text: string): string {
  const short = text.length > 200 ? text.slice(0, 200) + "…" : text;
  // deno-lint-ignore no-control-regex
  return `'${short.replace(/[\u0000-\u001F\u007F]/g, "?")}'`;
}
