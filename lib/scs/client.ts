/**
 * `ScsClient`: calls a running SCS service (kortti serve, Atostek ID, DigiSign...) with the toolkit's serialization.
 * Uses only `fetch`, so it runs in Deno and in a browser. In Deno, trust the service's local CA by passing a `fetch`
 * bound to a `Deno.HttpClient` with `caCerts`.
 *
 * @example
 * ```ts
 * import { ScsClient } from "./client.ts";
 * const scs = new ScsClient({ baseUrl: "https://localhost:53952" });
 * const version = await scs.version();
 * const answer = await scs.sign({
 *   version: version.version, selector: { keyusages: ["nonrepudiation"] }, content: btoa("hello"),
 *   contentType: "data", hashAlgorithm: "SHA256", signatureType: "cms",
 * });
 * if (answer.status === "ok") console.log(answer.signature);
 * ```
 * @module
 */

import {
  deserializeSCSSignResponse,
  deserializeSCSVersionResponse,
  serializeSCSSignRequest,
  ToolkitError,
  ToolkitErrorCode,
} from "./toolkit.ts";
import type { SCSMethod, SCSSignRequest, SCSSignResponse, SCSVersionResponse } from "./types.ts";

/** Where and how `ScsClient` reaches the service. */
export interface ScsClientOptions {
  /** Base URL of the service; default `https://127.0.0.1:53952`. */
  baseUrl?: string;
  /** The fetch to use (e.g. one bound to a Deno.HttpClient that trusts the local CA); default global fetch. */
  fetch?: typeof fetch;
  /** Per-request timeout in milliseconds; default 120000 (the person may take a while with the PIN). */
  timeoutMs?: number;
}

/**
 * A client for the SCS API. Protocol failures (`status: "failed"`) are returned as answers; transport failures and
 * answers that cannot be read throw `ToolkitError`.
 *
 * @example
 * ```ts
 * import { ScsClient } from "./client.ts";
 * const scs = new ScsClient();
 * console.log((await scs.version()).signatureTypes);
 * ```
 */
export class ScsClient {
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  /** A client of the service at `options.baseUrl` (trailing slashes dropped); nothing is sent until a call. */
  constructor(options: ScsClientOptions = {}) {
    this.#baseUrl = (options.baseUrl ?? "https://127.0.0.1:53952").replace(/\/+$/, "");
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** `GET /version`. */
  async version(): Promise<SCSVersionResponse> {
    const text = await this.#call(`${this.#baseUrl}/version`, { method: "GET" });
    const { result, error } = deserializeSCSVersionResponse(text);
    if (result === undefined) throw error;
    return result;
  }

  /** `POST /sign` (default) or `GET /sign` with query parameters. */
  async sign(request: SCSSignRequest, method: SCSMethod = "POST"): Promise<SCSSignResponse> {
    const serialized = serializeSCSSignRequest(request, method);
    if (serialized.result === undefined) throw serialized.error;
    const text = method === "POST"
      ? await this.#call(`${this.#baseUrl}/sign`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: serialized.result,
      })
      : await this.#call(`${this.#baseUrl}/sign?${serialized.result}`, { method: "GET" });
    const { result, error } = deserializeSCSSignResponse(text);
    if (result === undefined) throw error;
    return result;
  }

  async #call(url: string, init: RequestInit): Promise<string> {
    try {
      const response = await this.#fetch(url, { ...init, signal: AbortSignal.timeout(this.#timeoutMs) });
      return await response.text();
    } catch (e) {
      throw new ToolkitError(
        ToolkitErrorCode.deserializationFailed,
        `no answer from ${url}: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
}
