/**
 * Who may use the card through `serve`: the origin allow-list (command line plus `<data dir>/allowed-origins`), the
 * Host header check against the service's names and port (a DNS-rebinding defence), the CORS headers (an allowed
 * origin reflected, never `*`), and the origin binding of authentication-key signatures over `data`.
 *
 * @example
 * ```ts
 * import { OriginPolicy } from "./policy.ts";
 * const policy = new OriginPolicy({ origins: ["https://app.example.fi"] });
 * console.log(policy.originAllowed("https://app.example.fi"), policy.hostAllowed("localhost:53952", 53952));
 * ```
 * @module
 */

import { SERVICE_DNS_NAMES, SERVICE_IP_ADDRESSES } from "./tls.ts";
import { readTextIfExists } from "./files.ts";

/** Name of the allow-list file in the data directory: one origin a line, `#` comments. */
export const ORIGINS_FILE = "allowed-origins";

/** The least length of the nonce/digest that must follow the origin in authentication-key `data`. */
export const MIN_BOUND_SUFFIX = 64;

/** What the policy is built from. */
export interface OriginPolicyOptions {
  /** Allowed origins, e.g. `https://app.example.fi` (scheme, host, optional port). */
  origins: readonly string[];
  /** Whether requests without an Origin header (not from a browser page) may use the service. */
  allowNoOrigin?: boolean;
}

/** The verdict on a request's Origin. */
export type OriginVerdict =
  | { allowed: true; origin: string | undefined }
  | { allowed: false; origin: string | undefined; reason: string };

/**
 * The origin and Host policy of the service.
 *
 * @example
 * ```ts
 * import { OriginPolicy } from "./policy.ts";
 * const policy = new OriginPolicy({ origins: ["https://a.example"], allowNoOrigin: false });
 * console.log(policy.judgeOrigin(null)); // { allowed: false, ... }
 * ```
 */
export class OriginPolicy {
  readonly #origins: Set<string>;
  readonly #seen = new Map<string, boolean>();
  readonly #hostsSeen = new Map<string, boolean>();
  /** Whether requests without Origin are served. */
  readonly allowNoOrigin: boolean;

  constructor(options: OriginPolicyOptions) {
    this.#origins = new Set(options.origins.map(normalizeOrigin));
    this.allowNoOrigin = options.allowNoOrigin ?? false;
  }

  /** The allowed origins, normalized. */
  get origins(): string[] {
    return [...this.#origins];
  }

  /** Whether this exact origin (after normalization) is on the list. */
  originAllowed(origin: string): boolean {
    // Asked on every request: remember the answers for the origins seen (bounded, so a flood cannot grow it).
    const known = this.#seen.get(origin);
    if (known !== undefined) return known;
    let allowed = false;
    try {
      allowed = this.#origins.has(normalizeOrigin(origin));
    } catch {
      allowed = false;
    }
    if (this.#seen.size < 4096) this.#seen.set(origin, allowed);
    return allowed;
  }

  /** Judges a request's Origin header (null when absent). */
  judgeOrigin(origin: string | null): OriginVerdict {
    if (origin === null || origin === "") {
      return this.allowNoOrigin
        ? { allowed: true, origin: undefined }
        : { allowed: false, origin: undefined, reason: "request without Origin refused (see --allow-no-origin)" };
    }
    if (this.originAllowed(origin)) return { allowed: true, origin };
    return { allowed: false, origin, reason: `origin ${origin} is not allowed (see --allow-origin)` };
  }

  /**
   * Whether a Host header names this service: one of its names or addresses, with the listener's port. Browsers
   * always send the port for a non-default one, so a missing or other port is refused.
   */
  hostAllowed(host: string | null, port: number): boolean {
    if (!host) return false;
    // Asked on every request too: remembered like the origins (bounded).
    const key = `${port} ${host}`;
    const known = this.#hostsSeen.get(key);
    if (known !== undefined) return known;
    const allowed = this.#judgeHost(host, port);
    if (this.#hostsSeen.size < 4096) this.#hostsSeen.set(key, allowed);
    return allowed;
  }

  #judgeHost(host: string, port: number): boolean {
    const match = host.trim().toLowerCase().match(/^(\[[0-9a-f:.]+\]|[^:]+):(\d+)$/);
    if (!match) return false;
    if (Number(match[2]) !== port) return false;
    const name = match[1].replace(/^\[|\]$/g, "").replace(/\.$/, "");
    return (SERVICE_DNS_NAMES as readonly string[]).includes(name) || isServiceAddress(name);
  }
}

function isServiceAddress(name: string): boolean {
  if ((SERVICE_IP_ADDRESSES as readonly string[]).includes(name)) return true;
  return /^(0{0,4}:){2,7}0{0,3}1$/.test(name) && name.replace(/[:0]/g, "") === "1"; // other spellings of ::1
}

/**
 * Normalizes an origin for comparison: lower-case scheme and host, default ports dropped, no trailing slash.
 * Throws on something that is not an origin (a path, a query).
 *
 * @example
 * ```ts
 * import { normalizeOrigin } from "./policy.ts";
 * console.log(normalizeOrigin("HTTPS://App.Example.fi:443/")); // https://app.example.fi
 * ```
 */
export function normalizeOrigin(origin: string): string {
  const trimmed = origin.trim();
  if (trimmed === "null") return "null";
  const url = new URL(trimmed);
  if (!/^https?:$/.test(url.protocol)) throw new TypeError(`'${origin}' is not an http(s) origin`);
  if ((url.pathname !== "/" && url.pathname !== "") || url.search || url.hash || url.username) {
    throw new TypeError(`'${origin}' is not an origin (scheme://host[:port] only)`);
  }
  return url.origin;
}

/**
 * Reads the allow-list file of the data directory (missing file: empty list). Lines that are not origins are
 * returned in `problems`, not silently dropped.
 *
 * @example
 * ```ts
 * import { readOriginsFile } from "./policy.ts";
 * const { origins, problems } = await readOriginsFile("/tmp/kortti-data");
 * console.log(origins, problems);
 * ```
 */
export async function readOriginsFile(dataDir: string): Promise<{ origins: string[]; problems: string[] }> {
  const text = await readTextIfExists(`${dataDir}/${ORIGINS_FILE}`);
  const origins: string[] = [];
  const problems: string[] = [];
  for (const raw of (text ?? "").split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    try {
      origins.push(normalizeOrigin(line));
    } catch {
      problems.push(`${ORIGINS_FILE}: '${line}' is not an origin`);
    }
  }
  return { origins, problems };
}

/**
 * The CORS headers for an allowed origin: the origin reflected, never `*`, and `Vary: Origin` always (also on
 * refusals, so that caches never mix answers for different origins), the allowed methods and request headers on every
 * answer as docs/scs-api.md describes, and the private-network grant only to a preflight that asks for it.
 *
 * @example
 * ```ts
 * import { corsHeaders } from "./policy.ts";
 * const headers = corsHeaders("https://a.example", { preflight: true });
 * console.log(headers.get("access-control-allow-origin"), headers.get("access-control-allow-methods"));
 * ```
 */
export function corsHeaders(
  origin: string | undefined,
  { preflight = false, privateNetwork = false }: { preflight?: boolean; privateNetwork?: boolean } = {},
): Headers {
  const headers = new Headers({ "Vary": "Origin" });
  if (origin === undefined) return headers;
  headers.set("Access-Control-Allow-Origin", origin);
  // docs/scs-api.md: every answer names the methods and headers (peers do, and clients may look for them).
  headers.set("Access-Control-Allow-Methods", "GET, POST");
  headers.set("Access-Control-Allow-Headers", "Accept, Content-Type");
  if (preflight && privateNetwork) headers.set("Access-Control-Allow-Private-Network", "true");
  return headers;
}

/**
 * Whether `data` signed with the authentication key is bound to the calling origin: it starts with the exact
 * Origin followed by `\n` or `;`, and then at least 64 characters of nonce or digest. Without that, any page could
 * make the card sign a login challenge of another site.
 *
 * @example
 * ```ts
 * import { isOriginBound } from "./policy.ts";
 * const content = new TextEncoder().encode("https://a.example\n" + "0".repeat(64));
 * console.log(isOriginBound(content, "https://a.example")); // true
 * ```
 */
export function isOriginBound(content: Uint8Array, origin: string | undefined): boolean {
  if (origin === undefined || origin === "null") return false;
  const prefix = new TextEncoder().encode(origin);
  if (content.length < prefix.length + 1 + MIN_BOUND_SUFFIX) return false;
  for (let i = 0; i < prefix.length; i++) if (content[i] !== prefix[i]) return false;
  const separator = content[prefix.length];
  return separator === 0x0a || separator === 0x3b;
}
