/**
 * `kortti serve`: the local HTTPS signing service for browsers (SCS API on 53952, erasmartcard on 44304), and its
 * housekeeping: `--install-ca`, `--uninstall-ca`, `--check`, `--install-service`, `--uninstall-service`.
 * @module
 */

import { Command, Option } from "commander";
import { UsageError } from "../lib/errors.ts";
import { addCardOptions, type CardOptions, traceSink, virtualProfile } from "./card-options.ts";
import { ExitRequest, writeErr, writeOut } from "./output.ts";

/** Parsed options of `serve`. */
interface ServeOptions extends CardOptions {
  scsPort: string;
  eraPort: string;
  allowOrigin: string[];
  dataDir?: string;
  pinDialog?: "pinentry" | "tty";
  pinentry?: string;
  allowNoOrigin?: boolean;
  era: boolean;
  scs: boolean;
  queue: string;
  installCa?: boolean;
  uninstallCa?: boolean;
  check?: boolean;
  installService?: boolean;
  uninstallService?: boolean;
}

/** The `serve` command. */
export function serveCommand(): Command {
  const command = new Command("serve")
    .description("the local HTTPS signing service for browsers (SCS API and erasmartcard)")
    .option("--scs-port <port>", "SCS API port", "53952")
    .option("--era-port <port>", "erasmartcard port", "44304")
    .option(
      "--allow-origin <origin>",
      "a web origin allowed to ask for signatures (repeatable; also <data dir>/allowed-origins)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--data-dir <dir>", "data directory (default $XDG_DATA_HOME/kortti or ~/.local/share/kortti)")
    .addOption(
      new Option("--pin-dialog <kind>", "how to ask for the PIN (default: pinentry on a desktop, else tty)")
        .choices(["pinentry", "tty"]),
    )
    .option("--pinentry <path>", "the pinentry program (default: pinentry)")
    .option("--allow-no-origin", "also serve requests without an Origin header (not from a web page)")
    .option("--no-era", "do not start the erasmartcard listener")
    .option("--no-scs", "do not start the SCS listener")
    .option("--queue <n>", "how many signature requests may wait for the card", "8")
    .option("--install-ca", "trust the local CA in the browsers' NSS databases (certutil), then exit")
    .option("--uninstall-ca", "remove the local CA from the browsers' NSS databases, then exit")
    .option("--check", "diagnose ports, CA, certificate expiry and browser trust, then exit")
    .option("--install-service", "install and enable a systemd user service running serve with these options")
    .option("--uninstall-service", "stop, disable and remove the systemd user service");
  return addCardOptions(command)
    .addHelpText(
      "after",
      "\nExample:\n  kortti serve --allow-origin https://example.fi\n  kortti serve --install-ca && kortti serve --check",
    )
    .action(async (options: ServeOptions) => {
      const dataDir = options.dataDir ?? (await import("../lib/serve/files.ts")).defaultDataDir();
      if (options.installCa) return await installCaAction(dataDir);
      if (options.uninstallCa) return await uninstallCaAction();
      if (options.check) return await checkAction(dataDir, options);
      if (options.installService) return await installServiceAction(options);
      if (options.uninstallService) return await uninstallServiceAction();
      await serveAction(dataDir, options);
    });
}

function portOf(text: string, name: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port < 1 || port > 65535) throw new UsageError(`${name} '${text}' is not a port`);
  return port;
}

function home(): string {
  return Deno.env.get("HOME") ?? Deno.env.get("USERPROFILE") ?? ".";
}

async function allowedOrigins(dataDir: string, options: ServeOptions): Promise<string[]> {
  const { normalizeOrigin, readOriginsFile } = await import("../lib/serve/policy.ts");
  const fromCli = options.allowOrigin.map((origin) => {
    try {
      return normalizeOrigin(origin);
    } catch (e) {
      throw new UsageError(`--allow-origin ${origin}: ${e instanceof Error ? e.message : String(e)}`, {
        hint: "give an origin such as https://app.example.fi",
      });
    }
  });
  const file = await readOriginsFile(dataDir);
  for (const problem of file.problems) writeErr(`kortti serve: warning: ${problem}\n`);
  return [...new Set([...fromCli, ...file.origins])];
}

async function serveAction(dataDir: string, options: ServeOptions): Promise<void> {
  const scsPort = portOf(options.scsPort, "--scs-port");
  const eraPort = portOf(options.eraPort, "--era-port");
  const queueSize = portOf(options.queue, "--queue");
  if (!options.scs && !options.era) throw new UsageError("--no-scs and --no-era leave nothing to serve");
  const origins = await allowedOrigins(dataDir, options);
  const { ensureTlsIdentity } = await import("../lib/serve/tls.ts");
  const { OriginPolicy } = await import("../lib/serve/policy.ts");
  const { CardQueue } = await import("../lib/serve/queue.ts");
  const { reopeningCardAccess } = await import("../lib/serve/card-access.ts");
  const { startListener } = await import("../lib/serve/server.ts");
  const { BODY_LIMIT } = await import("../lib/serve/body.ts");
  const { openCard } = await import("../lib/open.ts");
  const { signWithCard } = await import("../lib/sign/mod.ts");
  const tls = await ensureTlsIdentity(dataDir);
  const profile = virtualProfile(options);
  const trace = traceSink(options);
  const ctx: import("../lib/serve/server.ts").ServeContext = {
    policy: new OriginPolicy({ origins, allowNoOrigin: options.allowNoOrigin }),
    queue: new CardQueue(queueSize),
    pinDialog: await pinDialogFor(options),
    cards: reopeningCardAccess(() =>
      openCard({
        ...(profile ? { virtualCard: profile } : {}),
        ...(options.reader !== undefined ? { reader: options.reader } : {}),
        ...(trace ? { trace } : {}),
      })
    ),
    sign: (o) =>
      signWithCard({ card: o.card, key: o.key, format: o.format, hash: o.hash, digest: o.digest, pin: o.pin }),
    dataDir,
    tls,
    bodyLimit: BODY_LIMIT,
    log: bufferedLog(),
  };
  const listeners: import("../lib/serve/server.ts").Listener[] = [];
  let forgetEraPort: (() => Promise<void>) | undefined;
  const stopAll = async () => {
    await forgetEraPort?.();
    await Promise.all(listeners.map((l) => l.shutdown()));
    await ctx.cards.close();
    flushLog();
  };
  try {
    if (options.scs) {
      const { createScsApp } = await import("../lib/serve/scs.ts");
      listeners.push(await startListener(ctx, { port: scsPort, app: createScsApp(ctx), name: "SCS" }));
    }
    if (options.era) {
      const era = await eraModule();
      if (era) {
        listeners.push(await startListener(ctx, { port: eraPort, app: era.createEraApp(ctx), name: "erasmartcard" }));
        // Where `kortti post-url` finds the port for {PORT}; removed again when serve stops.
        forgetEraPort = await era.recordEraPort?.(dataDir, eraPort);
      }
    }
  } catch (e) {
    await stopAll();
    throw e;
  }
  await printBanner(ctx, listeners, profile, origins);
  const stop = new Promise<string>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      try {
        Deno.addSignalListener(signal, () => resolve(signal));
      } catch { /* not on this OS */ }
    }
  });
  const signal = await stop;
  writeErr(`kortti serve: ${signal}: stopping (again to stop at once)\n`);
  // Running requests may wait for a person at the PIN dialog: a second Ctrl-C must not have to wait for them.
  for (const again of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(again, () => {
        flushLog();
        Deno.exit(130);
      });
    } catch { /* not on this OS */ }
  }
  await stopAll();
}

let pendingLog: string[] = [];
let logTimer: ReturnType<typeof setTimeout> | undefined;

/**
 * The access log on stderr, one line per request, written in batches every few milliseconds: one write per request
 * would cost a system call each under load.
 */
function bufferedLog(): (line: string) => void {
  return (line) => {
    pendingLog.push(line);
    if (pendingLog.length >= 256) flushLog();
    else if (logTimer === undefined) logTimer = setTimeout(flushLog, 20);
  };
}

function flushLog(): void {
  if (logTimer !== undefined) clearTimeout(logTimer);
  logTimer = undefined;
  if (pendingLog.length === 0) return;
  const text = pendingLog.join("\n") + "\n";
  pendingLog = [];
  writeErr(text);
}

/** The erasmartcard listener's module (lib/serve/era.ts), when it is part of this build. */
async function eraModule(): Promise<
  | {
    createEraApp(ctx: import("../lib/serve/server.ts").ServeContext): import("../lib/serve/server.ts").FetchApp;
    recordEraPort?(dataDir: string, port: number): Promise<() => Promise<void>>;
  }
  | undefined
> {
  const url = new URL("../lib/serve/era.ts", import.meta.url);
  try {
    await Deno.stat(url);
  } catch {
    return undefined;
  }
  return await import(url.href);
}

async function pinDialogFor(options: ServeOptions): Promise<import("../lib/serve/pin-dialog.ts").PinDialog> {
  const desktop = Boolean(Deno.env.get("DISPLAY") || Deno.env.get("WAYLAND_DISPLAY")) ||
    Deno.build.os === "darwin" || Deno.build.os === "windows";
  const kind = options.pinDialog ?? (desktop || options.pinentry || !Deno.stdin.isTerminal() ? "pinentry" : "tty");
  if (kind === "pinentry") {
    const { pinentryDialog } = await import("../lib/serve/pinentry.ts");
    return pinentryDialog({ program: options.pinentry ?? "pinentry" });
  }
  const { terminalPinPrompt } = await import("./pin-prompt.ts");
  const { describePrompt } = await import("../lib/serve/pin-dialog.ts");
  const prompt = terminalPinPrompt();
  if (!prompt) {
    throw new UsageError("--pin-dialog tty needs a terminal on standard input", { hint: "use --pin-dialog pinentry" });
  }
  return (request) => {
    const text = describePrompt(request);
    writeErr(`\n== ${text.title}\n${text.description}\n`);
    return prompt({ pin: request.pin, key: request.key, triesLeft: request.triesLeft, holder: request.holder });
  };
}

async function printBanner(
  ctx: import("../lib/serve/server.ts").ServeContext,
  listeners: import("../lib/serve/server.ts").Listener[],
  profile: string | undefined,
  origins: string[],
): Promise<void> {
  const { trustedIn } = await import("../lib/serve/trust.ts");
  const trusted = await trustedIn(ctx.tls.caFingerprint, home()).catch(() => [] as string[]);
  const lines = [
    `kortti serve: listening on ${listeners.flatMap((l) => l.urls).join(", ")}`,
    `  card: ${profile ? `built-in virtual card (${profile})` : "PC/SC reader"}`,
    `  CA: ${ctx.tls.paths.caCert} (SHA-256 ${ctx.tls.caFingerprint})` +
    (ctx.tls.created === "ca-and-server" ? " [new]" : ""),
    `  server certificate valid until ${ctx.tls.serverNotAfter.toISOString().slice(0, 10)}`,
    trusted.length > 0
      ? `  trusted by: ${trusted.join(", ")}`
      : "  browsers do not trust this CA yet: run 'kortti serve --install-ca'",
    origins.length > 0
      ? `  allowed origins: ${origins.join(", ")}`
      : "  no origin allowed: every web page is refused (use --allow-origin)",
  ];
  if (ctx.policy.allowNoOrigin) lines.push("  requests without Origin are served (--allow-no-origin)");
  writeErr(lines.join("\n") + "\n");
}

async function installCaAction(dataDir: string): Promise<void> {
  const { ensureTlsIdentity } = await import("../lib/serve/tls.ts");
  const { certutilAvailable, installCa, systemStoreHints } = await import("../lib/serve/trust.ts");
  const tls = await ensureTlsIdentity(dataDir);
  if (!(await certutilAvailable())) {
    throw new UsageError("certutil is not installed", { hint: "install libnss3-tools (Debian) or nss-tools (Fedora)" });
  }
  const outcomes = await installCa(tls.paths.caCert, tls.caFingerprint, home());
  writeOut(`CA ${tls.paths.caCert} (SHA-256 ${tls.caFingerprint})\n`);
  for (const o of outcomes) {
    writeOut(`  ${o.database.label} (${o.database.dir}): ${o.outcome}${o.detail ? ` (${o.detail})` : ""}\n`);
  }
  writeOut("Restart the browsers to pick it up. For other programs, add it to the system store:\n");
  for (const hint of systemStoreHints(tls.paths.caCert)) writeOut(`  ${hint}\n`);
  if (outcomes.some((o) => o.outcome === "failed")) throw new ExitRequest(7);
}

async function uninstallCaAction(): Promise<void> {
  const { uninstallCa } = await import("../lib/serve/trust.ts");
  const outcomes = await uninstallCa(home());
  for (const o of outcomes) {
    writeOut(`${o.database.label} (${o.database.dir}): ${o.outcome}${o.detail ? ` (${o.detail})` : ""}\n`);
  }
  if (outcomes.some((o) => o.outcome === "failed")) throw new ExitRequest(7);
}

async function checkAction(dataDir: string, options: ServeOptions): Promise<void> {
  const { diagnose } = await import("../lib/serve/diagnose.ts");
  const ports = [
    ...(options.scs ? [portOf(options.scsPort, "--scs-port")] : []),
    ...(options.era ? [portOf(options.eraPort, "--era-port")] : []),
  ];
  const findings = await diagnose({ dataDir, home: home(), ports, origins: await allowedOrigins(dataDir, options) });
  for (const f of findings) writeOut(`${f.ok ? "ok  " : "FIX "} ${f.topic}: ${f.text}\n`);
  if (findings.some((f) => !f.ok)) throw new ExitRequest(1);
}

async function installServiceAction(options: ServeOptions): Promise<void> {
  const { installService } = await import("../lib/serve/service.ts");
  const command = [...launcherCommand(), "serve", ...forwardedArgs(options)];
  const result = await installService(command, home());
  writeOut(`wrote ${result.unitPath}\n`);
  writeOut(
    result.enabled
      ? "enabled and started: systemctl --user status kortti-serve\n"
      : `not enabled (${result.detail}): enable it with 'systemctl --user enable --now kortti-serve'\n`,
  );
}

async function uninstallServiceAction(): Promise<void> {
  const { uninstallService } = await import("../lib/serve/service.ts");
  const result = await uninstallService(home());
  writeOut(result.removed ? `removed ${result.unitPath}\n` : `no unit at ${result.unitPath}\n`);
}

/** The program that runs kortti: the compiled binary, or this checkout's launcher. */
function launcherCommand(): string[] {
  const exec = Deno.execPath();
  if (!/deno(\.exe)?$/.test(exec)) return [exec];
  return [new URL("../kortti", import.meta.url).pathname];
}

function forwardedArgs(o: ServeOptions): string[] {
  const args: string[] = [];
  if (o.scsPort !== "53952") args.push("--scs-port", o.scsPort);
  if (o.eraPort !== "44304") args.push("--era-port", o.eraPort);
  for (const origin of o.allowOrigin) args.push("--allow-origin", origin);
  if (o.dataDir) args.push("--data-dir", o.dataDir);
  if (o.pinDialog) args.push("--pin-dialog", o.pinDialog);
  if (o.pinentry) args.push("--pinentry", o.pinentry);
  if (o.allowNoOrigin) args.push("--allow-no-origin");
  if (!o.era) args.push("--no-era");
  if (!o.scs) args.push("--no-scs");
  if (o.reader !== undefined) args.push("--reader", o.reader);
  if (o.virtualCard) args.push(o.virtualCard === true ? "--virtual-card" : `--virtual-card=${o.virtualCard}`);
  return args;
}
