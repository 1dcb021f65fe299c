/**
 * `kortti serve` as a systemd user service: the unit file (start at login, restart on failure), written atomically
 * to `$XDG_CONFIG_HOME/systemd/user/kortti-serve.service`, enabled and started with `systemctl --user`, and removed
 * again. (The README shows the macOS LaunchAgent and Windows equivalents.)
 *
 * @example
 * ```ts
 * import { installService, serviceUnit } from "./service.ts";
 * console.log(serviceUnit(["/usr/local/bin/kortti", "serve", "--allow-origin", "https://app.example.fi"]));
 * const result = await installService(["/usr/local/bin/kortti", "serve"], Deno.env.get("HOME")!);
 * console.log(result.unitPath, result.enabled);
 * ```
 * @module
 */

import { writeDataFile } from "./files.ts";

/** The unit's file name. */
export const UNIT_NAME = "kortti-serve.service";

/** What installing or removing the service did. */
export interface ServiceResult {
  /** The unit file's path. */
  unitPath: string;
  /** Whether `systemctl --user` ran successfully. */
  enabled: boolean;
  /** systemctl's complaint, or why it did not run. */
  detail?: string;
}

/**
 * The systemd unit text that runs `command` (an absolute program path and its arguments).
 *
 * @example
 * ```ts
 * import { serviceUnit } from "./service.ts";
 * console.log(serviceUnit(["/opt/kortti/kortti", "serve"]));
 * ```
 */
export function serviceUnit(command: string[]): string {
  return [
    "[Unit]",
    "Description=kortti serve: SCS signing service for browsers (https://127.0.0.1:53952)",
    "After=pcscd.socket",
    "",
    "[Service]",
    `ExecStart=${command.map(quote).join(" ")}`,
    "Restart=on-failure",
    "RestartSec=2",
    // pinentry needs the desktop session's display; systemd imports it for graphical sessions.
    "PassEnvironment=DISPLAY WAYLAND_DISPLAY XAUTHORITY DBUS_SESSION_BUS_ADDRESS",
    "",
    "[Install]",
    "WantedBy=default.target",
    "",
  ].join("\n");
}

/**
 * The unit file path for a home directory (honouring `XDG_CONFIG_HOME`).
 *
 * @example
 * ```ts
 * import { unitPath } from "./service.ts";
 * console.log(unitPath("/home/me")); // /home/me/.config/systemd/user/kortti-serve.service
 * ```
 */
export function unitPath(home: string, configHome = Deno.env.get("XDG_CONFIG_HOME")): string {
  return `${configHome || `${home}/.config`}/systemd/user/${UNIT_NAME}`;
}

/**
 * Writes the unit and enables it (`systemctl --user daemon-reload`, `enable --now`).
 *
 * @example
 * ```ts
 * import { installService } from "./service.ts";
 * await installService(["/usr/local/bin/kortti", "serve"], "/home/me");
 * ```
 */
export async function installService(command: string[], home: string): Promise<ServiceResult> {
  const path = unitPath(home);
  await writeDataFile(path, serviceUnit(command), 0o644);
  const reload = await systemctl(["daemon-reload"]);
  if (!reload.ok) return { unitPath: path, enabled: false, detail: reload.detail };
  const enable = await systemctl(["enable", "--now", UNIT_NAME]);
  return { unitPath: path, enabled: enable.ok, ...(enable.ok ? {} : { detail: enable.detail }) };
}

/**
 * Disables and stops the service and removes the unit.
 *
 * @example
 * ```ts
 * import { uninstallService } from "./service.ts";
 * await uninstallService("/home/me");
 * ```
 */
export async function uninstallService(home: string): Promise<ServiceResult & { removed: boolean }> {
  const path = unitPath(home);
  const disable = await systemctl(["disable", "--now", UNIT_NAME]);
  let removed = true;
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    removed = false;
  }
  await systemctl(["daemon-reload"]);
  return { unitPath: path, enabled: false, removed, ...(disable.ok ? {} : { detail: disable.detail }) };
}

async function systemctl(args: string[]): Promise<{ ok: boolean; detail?: string }> {
  try {
    const out = await new Deno.Command("systemctl", { args: ["--user", ...args], stdout: "null", stderr: "piped" })
      .output();
    return out.success ? { ok: true } : { ok: false, detail: new TextDecoder().decode(out.stderr).trim() };
  } catch (e) {
    return { ok: false, detail: `systemctl cannot run (${e instanceof Error ? e.message : String(e)})` };
  }
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, "\\$1").replace(/%/g, "%%")}"`;
}
