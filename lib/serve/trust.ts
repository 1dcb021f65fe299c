/**
 * Browser trust for the local CA: adds it to (and removes it from) the NSS databases Chromium
 * (`~/.pki/nssdb`) and Firefox (each profile under `~/.mozilla/firefox`, also the snap and flatpak homes) use, with
 * `certutil`, and tells where it is trusted. The nickname carries the start of the CA's fingerprint, so an old kortti
 * CA is recognised and replaced.
 *
 * @example
 * ```ts
 * import { installCa, nssDatabases } from "./trust.ts";
 * const report = await installCa("/tmp/d/tls/ca.pem", "8D:DB:48:B6", Deno.env.get("HOME")!);
 * for (const line of report) console.log(line.database, line.outcome);
 * console.log(nssDatabases(Deno.env.get("HOME")!));
 * ```
 * @module
 */

import { CA_COMMON_NAME } from "./tls.ts";

/** One NSS database. */
export interface NssDatabase {
  /** Directory holding cert9.db (used as `sql:DIR`). */
  dir: string;
  /** `Chromium` or `Firefox (profile name)`. */
  label: string;
  /** Whether the database exists yet. */
  exists: boolean;
}

/** What happened to one database. */
export interface TrustOutcome {
  /** Which database. */
  database: NssDatabase;
  /** `added`, `already`, `removed`, `absent`, `created-and-added`, or `failed`. */
  outcome: "added" | "already" | "removed" | "absent" | "created-and-added" | "failed";
  /** certutil's complaint when it failed. */
  detail?: string;
}

/**
 * The NSS nickname of a CA, from its fingerprint.
 *
 * @example
 * ```ts
 * import { caNickname } from "./trust.ts";
 * console.log(caNickname("8D:DB:48:B6:EF:1B")); // kortti local CA 8DDB48B6
 * ```
 */
export function caNickname(fingerprint: string): string {
  return `${CA_COMMON_NAME} ${fingerprint.replace(/:/g, "").slice(0, 8)}`;
}

/**
 * The NSS databases of the user: Chromium's (listed even when it does not exist yet) and every Firefox profile's.
 *
 * @example
 * ```ts
 * import { nssDatabases } from "./trust.ts";
 * for (const db of nssDatabases("/home/me")) console.log(db.label, db.dir, db.exists);
 * ```
 */
export function nssDatabases(home: string): NssDatabase[] {
  const chromium = `${home}/.pki/nssdb`;
  const out: NssDatabase[] = [{ dir: chromium, label: "Chromium/Chrome", exists: exists(`${chromium}/cert9.db`) }];
  const firefoxRoots = [
    `${home}/.mozilla/firefox`,
    `${home}/snap/firefox/common/.mozilla/firefox`,
    `${home}/.var/app/org.mozilla.firefox/.mozilla/firefox`,
  ];
  for (const root of firefoxRoots) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = [...Deno.readDirSync(root)];
    } catch {
      continue;
    }
    for (const entry of entries) {
      const dir = `${root}/${entry.name}`;
      if (entry.isDirectory && exists(`${dir}/cert9.db`)) {
        out.push({ dir, label: `Firefox (${entry.name})`, exists: true });
      }
    }
  }
  return out;
}

/**
 * Adds the CA as a trusted TLS root to every database (creating Chromium's when missing), replacing older kortti
 * CAs.
 *
 * @example
 * ```ts
 * import { installCa } from "./trust.ts";
 * await installCa("/home/me/.local/share/kortti/tls/ca.pem", "8D:DB:...", "/home/me");
 * ```
 */
export async function installCa(caPemPath: string, fingerprint: string, home: string): Promise<TrustOutcome[]> {
  const nickname = caNickname(fingerprint);
  const outcomes: TrustOutcome[] = [];
  for (const database of nssDatabases(home)) {
    let created = false;
    if (!database.exists) {
      await Deno.mkdir(database.dir, { recursive: true, mode: 0o700 });
      const made = await certutil(["-N", "-d", `sql:${database.dir}`, "--empty-password"]);
      if (!made.ok) {
        outcomes.push({ database, outcome: "failed", detail: made.stderr });
        continue;
      }
      created = true;
    }
    const present = await nicknames(database.dir);
    if (present.includes(nickname)) {
      outcomes.push({ database, outcome: "already" });
      continue;
    }
    for (const old of present.filter((n) => n.startsWith(CA_COMMON_NAME))) {
      await certutil(["-D", "-d", `sql:${database.dir}`, "-n", old]);
    }
    const added = await certutil(["-A", "-d", `sql:${database.dir}`, "-n", nickname, "-t", "C,,", "-i", caPemPath]);
    outcomes.push(
      added.ok
        ? { database, outcome: created ? "created-and-added" : "added" }
        : { database, outcome: "failed", detail: added.stderr },
    );
  }
  return outcomes;
}

/**
 * Removes every kortti CA from every database.
 *
 * @example
 * ```ts
 * import { uninstallCa } from "./trust.ts";
 * await uninstallCa("/home/me");
 * ```
 */
export async function uninstallCa(home: string): Promise<TrustOutcome[]> {
  const outcomes: TrustOutcome[] = [];
  for (const database of nssDatabases(home)) {
    if (!database.exists) {
      outcomes.push({ database, outcome: "absent" });
      continue;
    }
    const ours = (await nicknames(database.dir)).filter((n) => n.startsWith(CA_COMMON_NAME));
    if (ours.length === 0) {
      outcomes.push({ database, outcome: "absent" });
      continue;
    }
    let failed: string | undefined;
    for (const nickname of ours) {
      const removed = await certutil(["-D", "-d", `sql:${database.dir}`, "-n", nickname]);
      if (!removed.ok) failed = removed.stderr;
    }
    outcomes.push(failed ? { database, outcome: "failed", detail: failed } : { database, outcome: "removed" });
  }
  return outcomes;
}

/**
 * Where the CA with this fingerprint is trusted: the labels of the databases that hold it.
 *
 * @example
 * ```ts
 * import { trustedIn } from "./trust.ts";
 * console.log(await trustedIn("8D:DB:48:B6:...", "/home/me")); // ["Chromium/Chrome"]
 * ```
 */
export async function trustedIn(fingerprint: string, home: string): Promise<string[]> {
  const nickname = caNickname(fingerprint);
  const out: string[] = [];
  for (const database of nssDatabases(home)) {
    if (database.exists && (await nicknames(database.dir)).includes(nickname)) out.push(database.label);
  }
  return out;
}

/**
 * Whether `certutil` (libnss3-tools) can be run.
 *
 * @example
 * ```ts
 * import { certutilAvailable } from "./trust.ts";
 * if (!(await certutilAvailable())) console.log("install libnss3-tools");
 * ```
 */
export async function certutilAvailable(): Promise<boolean> {
  try {
    await new Deno.Command("certutil", { args: ["-H"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/**
 * How to add the CA to the operating system's store, for programs that do not use NSS.
 *
 * @example
 * ```ts
 * import { systemStoreHints } from "./trust.ts";
 * console.log(systemStoreHints("/home/me/.local/share/kortti/tls/ca.pem").join("\n"));
 * ```
 */
export function systemStoreHints(caPemPath: string): string[] {
  return [
    `Debian/Ubuntu: sudo cp ${caPemPath} /usr/local/share/ca-certificates/kortti-local-ca.crt && sudo update-ca-certificates`,
    `Fedora/RHEL:   sudo trust anchor --store ${caPemPath}`,
    `macOS:         security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db ${caPemPath}`,
    `Windows:       certutil -user -addstore Root ${caPemPath}`,
  ];
}

async function nicknames(dir: string): Promise<string[]> {
  const listed = await certutil(["-L", "-d", `sql:${dir}`]);
  if (!listed.ok) return [];
  // Lines are "<nickname padded>  <trust flags>"; the flags column is the last whitespace-separated token.
  return listed.stdout.split("\n")
    .map((line) => line.match(/^(.*\S)\s+\S*,\S*,\S*\s*$/)?.[1]?.trim())
    .filter((n): n is string => n !== undefined && n !== "");
}

async function certutil(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  try {
    const out = await new Deno.Command("certutil", { args, stdout: "piped", stderr: "piped", stdin: "null" }).output();
    return {
      ok: out.success,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr).trim(),
    };
  } catch (e) {
    return { ok: false, stdout: "", stderr: e instanceof Error ? e.message : String(e) };
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
