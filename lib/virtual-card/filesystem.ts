/**
 * The virtual card's file system (ISO 7816-4): DFs and transparent EFs, SELECT in the forms real cards accept and
 * OpenSC uses (by FID, child DF, EF under the current DF, parent, by DF name, by path from the MF or from the current
 * DF), and the FCP a SELECT with `P2=04` answers.
 *
 * Layout of every profile (docs/fineid-cards.md, "Application and files"):
 * ```
 * 3F00 MF
 *   2F00 EF.DIR            one application template: the PKCS#15 application at 3F00/5015
 *   4331 authentication certificate
 *   5015 DF PKCS#15        named A0 00 00 00 63 50 4B 43 53 2D 31 35
 *     5031 ODF, 5032 TokenInfo, 4401 AODF, 4402 PrKDF, 4403 CDF
 *   5016 DF                (organisation cards: named "E.SIGN", DF.ESIGN)
 *     4332 / 4335 signature certificate
 * ```
 *
 * @example
 * ```ts
 * import { FileSystem, type DedicatedFile } from "./filesystem.ts";
 * const mf: DedicatedFile = { kind: "df", fid: 0x3f00, children: [] };
 * const fs = new FileSystem(mf);
 * console.log(fs.currentDf === mf); // true
 * ```
 * @module
 */

/** A transparent elementary file. */
export interface ElementaryFile {
  kind: "ef";
  fid: number;
  content: Uint8Array;
}

/** A dedicated file (directory), possibly an application with a name (AID). */
export interface DedicatedFile {
  kind: "df";
  fid: number;
  name?: Uint8Array;
  children: (ElementaryFile | DedicatedFile)[];
}

/** A file of the card. */
export type CardFile = ElementaryFile | DedicatedFile;

/** What a SELECT found, or the status word it fails with. */
export type SelectResult = { file: CardFile } | { sw: number };

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function fidsOf(data: Uint8Array): number[] | undefined {
  if (data.length === 0 || data.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < data.length; i += 2) out.push((data[i] << 8) | data[i + 1]);
  return out;
}

function tlv(tag: number, value: Uint8Array | number[]): number[] {
  return [tag, value.length, ...value];
}

/**
 * The FCP template (`62`) of a file: sizes in tags 80 and 81, descriptor 82, FID 83, and the DF name in 84.
 *
 * @example
 * ```ts
 * import { fcpOf } from "./filesystem.ts";
 * fcpOf({ kind: "ef", fid: 0x4331, content: new Uint8Array(1200) }); // 62 0E 80 02 04 B0 81 02 04 B0 ...
 * ```
 */
export function fcpOf(file: CardFile): Uint8Array {
  const fid = [file.fid >> 8, file.fid & 0xff];
  const body: number[] = [];
  if (file.kind === "ef") {
    const size = [file.content.length >> 8, file.content.length & 0xff];
    body.push(...tlv(0x80, size), ...tlv(0x81, size), ...tlv(0x82, [0x01]), ...tlv(0x83, fid));
  } else {
    body.push(...tlv(0x82, [0x38]), ...tlv(0x83, fid));
    if (file.name) body.push(...tlv(0x84, file.name));
  }
  return new Uint8Array(tlv(0x62, body));
}

/** The file tree and the current DF/EF. */
export class FileSystem {
  readonly mf: DedicatedFile;
  #currentDf: DedicatedFile;
  #currentEf: ElementaryFile | undefined;
  readonly #parents = new Map<CardFile, DedicatedFile>();

  constructor(mf: DedicatedFile) {
    this.mf = mf;
    this.#currentDf = mf;
    const index = (df: DedicatedFile) => {
      for (const child of df.children) {
        this.#parents.set(child, df);
        if (child.kind === "df") index(child);
      }
    };
    index(mf);
  }

  /** The current DF. */
  get currentDf(): DedicatedFile {
    return this.#currentDf;
  }

  /** The current EF, if one is selected. */
  get currentEf(): ElementaryFile | undefined {
    return this.#currentEf;
  }

  /** Back to the MF, nothing selected (after reset). */
  reset(): void {
    this.#currentDf = this.mf;
    this.#currentEf = undefined;
  }

  /** The DF a file is in (the MF for the MF). */
  parentOf(file: CardFile): DedicatedFile {
    return this.#parents.get(file) ?? this.mf;
  }

  /** The path of a file from the MF as FIDs, MF included. */
  pathOf(file: CardFile): number[] {
    const out: number[] = [];
    let at: CardFile | undefined = file;
    while (at && at !== this.mf) {
      out.unshift(at.fid);
      at = this.#parents.get(at);
    }
    return [this.mf.fid, ...out];
  }

  /** Finds a DF by its name (AID) anywhere in the tree. */
  findByName(name: Uint8Array): DedicatedFile | undefined {
    const search = (df: DedicatedFile): DedicatedFile | undefined => {
      if (df.name && equalBytes(df.name, name)) return df;
      for (const child of df.children) {
        if (child.kind === "df") {
          const found = search(child);
          if (found) return found;
        }
      }
      return undefined;
    };
    return search(this.mf);
  }

  /**
   * Resolves a SELECT (`P1` and data) without changing the selection. Status words: `6A82` not found, `6A86` a P1
   * the card does not know, `6A80` malformed data.
   */
  resolve(p1: number, data: Uint8Array): SelectResult {
    switch (p1) {
      case 0x00: {
        if (data.length === 0) return { file: this.mf };
        const fid = data.length === 2 ? (data[0] << 8) | data[1] : undefined;
        if (fid === undefined) return { sw: 0x6a80 };
        return this.#byFid(fid);
      }
      case 0x01: {
        const fid = data.length === 2 ? (data[0] << 8) | data[1] : undefined;
        if (fid === undefined) return { sw: 0x6a80 };
        const child = this.#currentDf.children.find((c) => c.fid === fid && c.kind === "df");
        return child ? { file: child } : { sw: 0x6a82 };
      }
      case 0x02: {
        const fid = data.length === 2 ? (data[0] << 8) | data[1] : undefined;
        if (fid === undefined) return { sw: 0x6a80 };
        // An EF under the current DF; like the recorded cards, also one beside the application DF (4331 after
        // selecting the PKCS#15 application).
        const here = this.#currentDf.children.find((c) => c.fid === fid && c.kind === "ef");
        if (here) return { file: here };
        const beside = this.parentOf(this.#currentDf).children.find((c) => c.fid === fid && c.kind === "ef");
        return beside ? { file: beside } : { sw: 0x6a82 };
      }
      case 0x03:
        return { file: this.parentOf(this.#currentDf) };
      case 0x04: {
        if (data.length === 0) return { file: this.mf };
        const df = this.findByName(data);
        return df ? { file: df } : { sw: 0x6a82 };
      }
      case 0x08:
      case 0x09: {
        const fids = fidsOf(data);
        if (!fids) return { sw: 0x6a80 };
        let at: DedicatedFile = p1 === 0x08 ? this.mf : this.#currentDf;
        if (p1 === 0x08 && fids[0] === this.mf.fid) fids.shift();
        if (fids.length === 0) return { file: at };
        for (let i = 0; i < fids.length; i++) {
          const child: CardFile | undefined = at.children.find((c) => c.fid === fids[i]);
          if (!child) return { sw: 0x6a82 };
          if (i === fids.length - 1) return { file: child };
          if (child.kind !== "df") return { sw: 0x6a82 };
          at = child;
        }
        return { sw: 0x6a82 };
      }
      default:
        return { sw: 0x6a86 };
    }
  }

  /** Makes a file the current one (a DF becomes the current DF; an EF the current EF in its DF). */
  select(file: CardFile): void {
    if (file.kind === "df") {
      this.#currentDf = file;
      this.#currentEf = undefined;
    } else {
      this.#currentDf = this.parentOf(file);
      this.#currentEf = file;
    }
  }

  /** P1=00: the MF, a child of the current DF, the current DF, its parent, or a sibling of the current DF. */
  #byFid(fid: number): SelectResult {
    if (fid === this.mf.fid) return { file: this.mf };
    const child = this.#currentDf.children.find((c) => c.fid === fid);
    if (child) return { file: child };
    if (this.#currentDf.fid === fid) return { file: this.#currentDf };
    const parent = this.parentOf(this.#currentDf);
    if (parent.fid === fid) return { file: parent };
    const sibling = parent.children.find((c) => c.fid === fid);
    return sibling ? { file: sibling } : { sw: 0x6a82 };
  }
}
