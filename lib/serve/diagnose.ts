/**
 * `kortti serve --check`: what usually goes wrong with a local signing service, diagnosed. Ports free or taken (and
 * by which program, when the system tells), the CA and where browsers trust it, certificate expiry and names, and
 * the origin allow-list. Returns findings; the CLI prints them.
 *
 * @example
 * ```ts
 * import { diagnose } from "./diagnose.ts";
 * for (const f of await diagnose({ dataDir: "/tmp/d", home: "/home/me", ports: [53952, 44304], origins: [] })) {
 *   console.log(f.ok ? "ok  " : "FAIL", f.topic, f.text);
 * }
 * ```
 * @module
 */

import { x509 } from "../x509.ts";
import { readTextIfExists } from "./files.ts";
import { fingerprint, tlsPaths } from "./tls.ts";
import { certutilAvailable, nssDatabases, trustedIn } from "./trust.ts";

/** One finding. */
export interface Finding {
  /** `port 53952`, `CA`, `server certificate`, `browsers`, `origins`. */
  topic: string;
  /** Whether this is fine. */
  ok: boolean;
  /** What was found, and what to do when it is not fine. */
  text: string;
}

/** What to diagnose. */
export interface DiagnoseOptions {
  /** The data directory. */
  dataDir: string;
  /** The home directory whose NSS databases count. */
  home: string;
  /** Ports to probe. */
  ports: number[];
  /** Allowed origins (command line and file). */
  origins: string[];
}

/**
 * Runs every diagnosis.
 *
 * @example
 * ```ts
 * import { diagnose } from "./diagnose.ts";
 * const findings = await diagnose({ dataDir: "/tmp/d", home: "/tmp", ports: [53952], origins: ["https://a.fi"] });
 * console.log(findings.every((f) => f.ok));
 * ```
 */
export async function diagnose(options: DiagnoseOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const port of options.ports) findings.push(await probePort(port));
  const paths = tlsPaths(options.dataDir);
  const caPem = await readTextIfExists(paths.caCert);
  if (caPem === undefined) {
    findings.push({
      topic: "CA",
      ok: false,
      text: `no CA yet in ${paths.dir}: 'kortti serve' makes one on first start`,
    });
    return [...findings, originsFinding(options.origins)];
  }
  const ca = new x509.X509Certificate(caPem);
  const fp = await fingerprint(ca);
  const constrained = ca.extensions.some((e) => e.type === "2.5.29.30" && e.critical);
  findings.push({
    topic: "CA",
    ok: constrained && ca.notAfter > new Date(),
    text: `${paths.caCert}: ${ca.subject}, SHA-256 ${fp}, expires ${ca.notAfter.toISOString()}` +
      (constrained ? ", name constraints (critical)" : ", WITHOUT name constraints: delete it to make a new one"),
  });
  const serverPem = await readTextIfExists(paths.serverCert);
  if (serverPem === undefined) {
    findings.push({ topic: "server certificate", ok: false, text: "missing: 'kortti serve' makes it on start" });
  } else {
    const server = new x509.X509Certificate(serverPem.match(/-----BEGIN[\s\S]+?-----END CERTIFICATE-----/)![0]);
    const days = Math.floor((server.notAfter.getTime() - Date.now()) / 86_400_000);
    const san = server.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.map((n) => n.value) ?? [];
    findings.push({
      topic: "server certificate",
      ok: days > 0 && server.issuer === ca.subject,
      text: `expires ${server.notAfter.toISOString()} (${days} days; renewed on start within 30 days), ` +
        `names ${san.join(", ")}`,
    });
  }
  if (!(await certutilAvailable())) {
    findings.push({ topic: "browsers", ok: false, text: "certutil not found: install libnss3-tools (or nss-tools)" });
  } else {
    const where = await trustedIn(fp, options.home);
    const databases = nssDatabases(options.home);
    const missing = databases.filter((d) => !where.includes(d.label)).map((d) => d.label);
    findings.push({
      topic: "browsers",
      ok: where.length > 0 && missing.length === 0,
      text: (where.length > 0 ? `CA trusted in ${where.join(", ")}` : "CA trusted in no browser database") +
        (missing.length > 0 ? `; not in ${missing.join(", ")}: run 'kortti serve --install-ca'` : ""),
    });
  }
  findings.push(originsFinding(options.origins));
  return findings;
}

function originsFinding(origins: string[]): Finding {
  return origins.length > 0 ? { topic: "origins", ok: true, text: `allowed: ${origins.join(", ")}` } : {
    topic: "origins",
    ok: false,
    text: "no origin allowed: every page is refused; use --allow-origin or the data directory's allowed-origins",
  };
}

async function probePort(port: number): Promise<Finding> {
  const topic = `port ${port}`;
  try {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    listener.close();
    return { topic, ok: true, text: "free" };
  } catch (e) {
    if (!(e instanceof Deno.errors.AddrInUse)) {
      return { topic, ok: false, text: `cannot test (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  const owner = await portOwner(port);
  const likely = port === 53952 ? "kortti serve, Atostek ID or DigiSign" : "kortti serve or Atostek ID";
  return {
    topic,
    ok: false,
    text: `taken by ${owner ?? `a program the system does not name (likely ${likely})`}; ` +
      "stop it, or let it be if it is a kortti serve you started",
  };
}

async function portOwner(port: number): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("ss", { args: ["-ltnpH", `sport = :${port}`], stdout: "piped", stderr: "null" })
      .output();
    const text = new TextDecoder().decode(out.stdout);
    const match = text.match(/users:\(\("([^"]+)",pid=(\d+)/);
    return match ? `${match[1]} (pid ${match[2]})` : undefined;
  } catch {
    return undefined;
  }
}
