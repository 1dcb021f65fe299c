/**
 * Benchmarks of `kortti serve` (issue 7): `/version` requests per second against a bare `Deno.serve` TLS
 * hello-world with the same certificate, in the same run and under the same client (target ratio >= 0.8), and the
 * end-to-end latency of `/sign` on the virtual card against signing in-process with the same signing core (target
 * overhead <= 10 ms). The PIN dialog is a minimal Assuan responder in sh, so its process start is counted but no
 * person is.
 *
 * @example
 * ```sh
 * tests/stack/isolate.sh deno run --allow-all bench/main.ts serve
 * ```
 * @module
 */

import { type BenchResult, median, percentile } from "./result.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const ORIGIN = "https://bench.example.test";
const SERVE_PORT = 53990;
const BARE_PORT = 53991;
const CONCURRENCY = 16;
const SECONDS = 1;
const ROUNDS = 8;

const PINENTRY = `#!/bin/sh
echo "OK ready"
while read -r cmd rest; do
  case "$cmd" in
    GETPIN) echo "D 123456"; echo "OK";;
    BYE) echo "OK"; exit 0;;
    *) echo "OK";;
  esac
done
`;

const BARE_SERVER = `
const [certFile, keyFile, port] = Deno.args;
Deno.serve({ hostname: "127.0.0.1", port: Number(port), cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile), onListen() {} }, () =>
  new Response('{"hello":"world"}', { headers: { "content-type": "application/json" } }));
`;

/**
 * Runs the serve benchmarks.
 *
 * @example
 * ```ts
 * import { run } from "./serve.ts";
 * for (const r of await run()) console.log(r.name, r.value, r.unit);
 * ```
 */
export async function run(): Promise<BenchResult[]> {
  const dir = await Deno.makeTempDir({ prefix: "kortti-bench-serve-" });
  const children: Deno.ChildProcess[] = [];
  try {
    await Deno.writeTextFile(`${dir}/pinentry`, PINENTRY, { mode: 0o755 });
    await Deno.writeTextFile(`${dir}/bare.ts`, BARE_SERVER);
    const serve = new Deno.Command(`${ROOT}/kortti`, {
      args: [
        "serve",
        "--virtual-card=v4",
        "--no-era",
        "--scs-port",
        String(SERVE_PORT),
        "--data-dir",
        `${dir}/data`,
        "--allow-origin",
        ORIGIN,
        "--pin-dialog",
        "pinentry",
        "--pinentry",
        `${dir}/pinentry`,
      ],
      env: { HOME: dir },
      stdin: "null",
      stdout: "null",
      stderr: "null", // the access log: one line per request, not what is measured here
    }).spawn();
    children.push(serve);
    const caPem = await waitFor(() => Deno.readTextFile(`${dir}/data/tls/ca.pem`));
    const client = Deno.createHttpClient({ caCerts: [caPem] });
    await waitFor(() => get(client, `https://localhost:${SERVE_PORT}/version`));
    const bare = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--allow-read",
        "--allow-net",
        `${dir}/bare.ts`,
        `${dir}/data/tls/server.pem`,
        `${dir}/data/tls/server-key.pem`,
        String(BARE_PORT),
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    children.push(bare);
    await waitFor(() => get(client, `https://localhost:${BARE_PORT}/`));

    // The machine is shared and its load drifts: alternate short runs of the two servers and take the median of the
    // ratios of neighbouring runs, which drift affects least.
    const serveRates: number[] = [], bareRates: number[] = [], ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = round % 2 === 0;
      const a = await rate(
        client,
        first ? `https://localhost:${SERVE_PORT}/version` : `https://localhost:${BARE_PORT}/`,
      );
      const b = await rate(
        client,
        first ? `https://localhost:${BARE_PORT}/` : `https://localhost:${SERVE_PORT}/version`,
      );
      const [serveRun, bareRun] = first ? [a, b] : [b, a];
      serveRates.push(serveRun);
      bareRates.push(bareRun);
      ratios.push(serveRun / bareRun);
    }
    const serveRate = median(serveRates), bareRate = median(bareRates);

    const signLatencies = await serveSignLatencies(client, 60);
    const inProcess = await inProcessSignLatencies(60);
    client.close();
    const overhead = median(signLatencies) - median(inProcess);
    return [
      {
        name: "/version requests per second (kortti serve)",
        value: serveRate,
        unit: "req/s",
        note: `median of ${ROUNDS} runs of ${SECONDS} s, ${CONCURRENCY} concurrent, HTTP/2 over TLS`,
      },
      { name: "/version requests per second (bare Deno.serve TLS hello-world)", value: bareRate, unit: "req/s" },
      {
        name: "/version rate ratio serve / bare (median of paired runs)",
        value: median(ratios),
        unit: "x",
        note: `target >= 0.8; runs ${ratios.map((r) => r.toFixed(2)).join(" ")}`,
      },
      {
        name: "/sign end-to-end latency, virtual card (median)",
        value: median(signLatencies),
        unit: "ms",
        note: `p90 ${percentile(signLatencies, 90).toFixed(1)} ms, raw ECDSA P-384, PIN dialog process included`,
      },
      { name: "in-process signWithCard latency, virtual card (median)", value: median(inProcess), unit: "ms" },
      { name: "/sign overhead over in-process signing", value: overhead, unit: "ms", note: "target <= 10 ms" },
    ];
  } finally {
    for (const child of children) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function waitFor<T>(attempt: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function get(client: Deno.HttpClient, url: string): Promise<string> {
  const response = await fetch(url, { client, headers: { Origin: ORIGIN } });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}: HTTP ${response.status}`);
  return text;
}

async function rate(client: Deno.HttpClient, url: string): Promise<number> {
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      await get(client, url);
      done++;
    }
  }));
  return done / ((performance.now() - started) / 1000);
}

function digestBody(): string {
  const digest = crypto.getRandomValues(new Uint8Array(48));
  return JSON.stringify({
    version: "1.3",
    selector: { keyusages: ["nonrepudiation"] },
    content: btoa(String.fromCharCode(...digest)),
    contentType: "digest",
    hashAlgorithm: "SHA384",
    signatureType: "signature",
  });
}

async function serveSignLatencies(client: Deno.HttpClient, count: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count + 5; i++) {
    const body = digestBody();
    const started = performance.now();
    const response = await fetch(`https://localhost:${SERVE_PORT}/sign`, {
      client,
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "application/json" },
      body,
    });
    const answer = await response.json();
    const ms = performance.now() - started;
    if (answer.status !== "ok") throw new Error(`/sign: ${JSON.stringify(answer)}`);
    if (i >= 5) latencies.push(ms); // the first ones open the card and warm up
  }
  return latencies;
}

async function inProcessSignLatencies(count: number): Promise<number[]> {
  const { openCard } = await import("../lib/open.ts");
  const { signWithCard } = await import("../lib/sign/mod.ts");
  const card = await openCard({ virtualCard: "v4" });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count + 5; i++) {
      const digest = crypto.getRandomValues(new Uint8Array(48));
      const started = performance.now();
      await signWithCard({
        card,
        key: "sign",
        format: "raw",
        hash: "sha384",
        digest,
        pin: () => Promise.resolve(new TextEncoder().encode("123456")),
      });
      if (i >= 5) latencies.push(performance.now() - started);
    }
  } finally {
    await card.close();
  }
  return latencies;
}

if (import.meta.main) {
  for (const r of await run()) {
    Deno.stdout.writeSync(new TextEncoder().encode(`${r.name}: ${r.value.toFixed(2)} ${r.unit} ${r.note ?? ""}\n`));
  }
}
