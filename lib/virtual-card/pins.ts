/**
 * The virtual card's PINs: values (kept as salted SHA-256 digests, never as text), try counters (5), blocking, and
 * the "changed" flag GET DATA reports in `DF2F`. With a state file, every change is persisted atomically (temporary
 * file, then rename) so try counters and PIN changes survive restarts, as on a card.
 *
 * @example
 * ```ts
 * import { PinStore } from "./pins.ts";
 * import { PROFILES } from "./profiles.ts";
 * const pins = await PinStore.open(PROFILES.v4);
 * console.log(pins.get("PIN1").tries); // 5
 * ```
 * @module
 */

import type { PinSpec, ProfileSpec, VirtualPinName } from "./profiles.ts";

/** Tries of a fresh PIN. */
export const MAX_TRIES = 5;

/** One PIN's state. */
export interface PinRecord {
  /** Hex SHA-256 of profile, PIN name and value. */
  digest: string;
  /** Tries left; 0 = blocked. */
  tries: number;
  /** Whether the PIN was ever changed (GET DATA `DF2F 01`). */
  changed: boolean;
}

interface StateFile {
  format: "kortti-virtual-card-state/1";
  profile: string;
  pins: Record<VirtualPinName, PinRecord>;
}

const STATE_FORMAT = "kortti-virtual-card-state/1";

async function pinDigest(profile: string, name: VirtualPinName, pin: Uint8Array): Promise<string> {
  const prefix = new TextEncoder().encode(`kortti-virtual-card:${profile}:${name}:`);
  const input = new Uint8Array(prefix.length + pin.length);
  input.set(prefix);
  input.set(pin, prefix.length);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", input));
  input.fill(0);
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The PINs of one card, optionally backed by a state file. */
export class PinStore {
  readonly #profile: ProfileSpec;
  readonly #records: Record<VirtualPinName, PinRecord>;
  readonly #statePath: string | undefined;

  private constructor(profile: ProfileSpec, records: Record<VirtualPinName, PinRecord>, statePath?: string) {
    this.#profile = profile;
    this.#records = records;
    this.#statePath = statePath;
  }

  /**
   * The PINs of a new card of this profile, or those saved in `statePath` when the file exists (a file of another
   * profile is an error, not silently replaced).
   */
  static async open(profile: ProfileSpec, statePath?: string): Promise<PinStore> {
    if (statePath) {
      let text: string | undefined;
      try {
        text = await Deno.readTextFile(statePath);
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
      if (text !== undefined) {
        const state = JSON.parse(text) as StateFile;
        if (state.format !== STATE_FORMAT || state.profile !== profile.profile) {
          throw new Error(`${statePath} is not a state file of a virtual ${profile.profile} card`);
        }
        return new PinStore(profile, state.pins, statePath);
      }
    }
    const records = {} as Record<VirtualPinName, PinRecord>;
    for (const spec of profile.pins) {
      records[spec.name] = {
        digest: await pinDigest(profile.profile, spec.name, new TextEncoder().encode(spec.defaultValue)),
        tries: MAX_TRIES,
        changed: true,
      };
    }
    const store = new PinStore(profile, records, statePath);
    if (statePath) await store.save();
    return store;
  }

  /** The spec of a PIN by its VERIFY reference, if the profile has one. */
  specByReference(reference: number): PinSpec | undefined {
    return this.#profile.pins.find((p) => p.reference === reference);
  }

  /** A PIN's state. */
  get(name: VirtualPinName): Readonly<PinRecord> {
    return this.#records[name];
  }

  /** Whether `pin` (digits) is the PIN's value. Does not count anything. */
  async matches(name: VirtualPinName, pin: Uint8Array): Promise<boolean> {
    return await pinDigest(this.#profile.profile, name, pin) === this.#records[name].digest;
  }

  /** Sets the tries left (fault injection and counting). */
  async setTries(name: VirtualPinName, tries: number): Promise<void> {
    if (this.#records[name].tries === tries) return;
    this.#records[name].tries = Math.max(0, Math.min(MAX_TRIES, tries));
    await this.save();
  }

  /** Sets a new value, resets its tries and marks it changed. */
  async setValue(name: VirtualPinName, pin: Uint8Array): Promise<void> {
    this.#records[name] = {
      digest: await pinDigest(this.#profile.profile, name, pin),
      tries: MAX_TRIES,
      changed: true,
    };
    await this.save();
  }

  /** Writes the state file atomically (no-op without one). */
  async save(): Promise<void> {
    if (!this.#statePath) return;
    const state: StateFile = { format: STATE_FORMAT, profile: this.#profile.profile, pins: this.#records };
    const temporary = `${this.#statePath}.tmp-${crypto.randomUUID()}`;
    try {
      await Deno.writeTextFile(temporary, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
      await Deno.rename(temporary, this.#statePath);
    } catch (error) {
      await Deno.remove(temporary).catch(() => {});
      throw error;
    }
  }
}
