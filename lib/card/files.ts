/**
 * Reading a card's files with the fewest APDUs: SELECT by path asking for the FCP (`P2=04`) so the size comes with
 * the selection, READ BINARY with `Le=00` advancing by what the card really returned (FinEID cards give 181 bytes,
 * not 256), each file read once per card object, and nothing re-selected that is already selected
 * (docs/fineid-cards.md, "Application and files").
 *
 * @example
 * ```ts
 * import { CardFiles } from "./files.ts";
 * import { ApduChannel } from "../apdu.ts";
 * import type { Transport } from "../transport.ts";
 * async function authCertificate(transport: Transport) {
 *   const files = new CardFiles(new ApduChannel(transport));
 *   return await files.read("3F00/4331"); // SELECT 00 A4 08 04 02 43 31 00, then READ BINARY until done
 * }
 * ```
 * @module
 */

import { type ApduChannel, command, SW, toHex } from "../apdu.ts";
import { UnexpectedCardAnswerError } from "../errors.ts";
import { findTag, parseTlv, uint } from "./tlv.ts";

/** SELECT: `00 A4 P1 P2`. */
const INS_SELECT = 0xa4;
/** SELECT P1: by DF name (AID). */
const SELECT_BY_NAME = 0x04;
/** SELECT P1: by path from the MF (the path leaves out 3F00). */
const SELECT_PATH_FROM_MF = 0x08;
/** SELECT P1: by path from the current DF. */
const SELECT_PATH_FROM_CURRENT = 0x09;
/** SELECT P2: return the FCP template (tag 62), which carries the file size. */
const RETURN_FCP = 0x04;
/** SELECT P2: return nothing. */
const RETURN_NOTHING = 0x0c;
/** READ BINARY: `00 B0 <offset hi> <offset lo> <Le>`. */
const INS_READ_BINARY = 0xb0;
/** Status: end of file reached before Le bytes (data still valid). */
const SW_END_OF_FILE = 0x6282;
/** Status: offset outside the file. */
const SW_WRONG_OFFSET = 0x6b00;
/** READ BINARY offsets are 15 bits when P1 bit 8 is clear. */
const MAX_OFFSET = 0x7fff;

/**
 * A file path as the card layer writes it: `3F00/5016/4332` (from the MF) or `5031` / `./5031` (from the current
 * DF, i.e. the selected application).
 */
export type FilePath = string;

function fileIds(path: FilePath): { fromMf: boolean; bytes: Uint8Array; canonical: string } {
  const parts = path.replace(/^\.\//, "").split("/").filter((p) => p.length > 0);
  const fromMf = parts[0]?.toUpperCase() === "3F00";
  const ids = fromMf ? parts.slice(1) : parts;
  const bytes = new Uint8Array(ids.length * 2);
  ids.forEach((id, i) => {
    const value = parseInt(id, 16);
    if (!/^[0-9a-fA-F]{4}$/.test(id)) throw new RangeError(`not a file path: ${path}`);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  const canonical = (fromMf ? ["3F00", ...ids] : ids).map((p) => p.toUpperCase()).join("/");
  return { fromMf, bytes, canonical };
}

/** The file size from an FCP template: tag 80 (data bytes) when present, else 81 (total). */
export function fcpFileSize(fcp: Uint8Array): number | undefined {
  if (fcp.length === 0) return undefined;
  try {
    const elements = parseTlv(fcp);
    const size = findTag(elements, 0x80) ?? findTag(elements, 0x81);
    return size && size.value.length > 0 ? uint(size.value) : undefined;
  } catch {
    return undefined;
  }
}

/** Files and selection state of one card, over its `ApduChannel`. */
export class CardFiles {
  readonly #channel: ApduChannel;
  readonly #cache = new Map<string, Uint8Array | null>();
  #selected: string | undefined;
  #selectedSize: number | undefined;
  /** The selection that relative paths are relative to (set by `selectByName`). */
  #application = "";
  #applicationAid: Uint8Array | undefined;
  /** Whether the current DF is that application (an absolute SELECT may have moved it elsewhere). */
  #inApplication = false;

  constructor(channel: ApduChannel) {
    this.#channel = channel;
  }

  /** What is selected now (`3F00/4331`, `name:A000000063504B43532D3135`), as far as this object knows. */
  get selected(): string | undefined {
    return this.#selected;
  }

  /** The application relative paths refer to (`name:<AID hex>`), once one was selected by name. */
  get application(): string | undefined {
    return this.#application || undefined;
  }

  /** Forgets the selection state (after a reset, or a command that may have changed it). */
  forgetSelection(): void {
    this.#selected = undefined;
    this.#selectedSize = undefined;
    this.#inApplication = false;
  }

  /**
   * Selects an application (DF) by name without asking for its FCP; does nothing when it is selected already.
   * Returns the status word; anything but `9000` leaves the selection unknown.
   */
  async selectByName(aid: Uint8Array): Promise<number> {
    const key = `name:${toHex(aid)}`;
    if (this.#selected === key) return SW.OK;
    const { sw } = await this.#channel.send(command(0x00, INS_SELECT, SELECT_BY_NAME, RETURN_NOTHING, aid));
    if (sw === SW.OK) {
      this.#selected = key;
      this.#selectedSize = undefined;
      this.#application = key;
      this.#applicationAid = aid;
      this.#inApplication = true;
    } else this.forgetSelection();
    return sw;
  }

  /**
   * Selects an EF by path with its FCP and returns its size (undefined when the card gave none), or null when the
   * file does not exist. Does not re-select the selected file.
   */
  async select(path: FilePath): Promise<number | undefined | null> {
    const { fromMf, bytes, canonical } = fileIds(path);
    const key = fromMf ? canonical : `${this.#application}/${canonical}`;
    if (this.#selected === key) return this.#selectedSize;
    if (!fromMf && !this.#inApplication && this.#applicationAid) {
      const sw = await this.selectByName(this.#applicationAid);
      if (sw !== SW.OK) throw new UnexpectedCardAnswerError("SELECT the application", sw);
    }
    const p1 = fromMf ? SELECT_PATH_FROM_MF : bytes.length === 2 ? 0x02 : SELECT_PATH_FROM_CURRENT;
    const response = await this.#channel.send(command(0x00, INS_SELECT, p1, RETURN_FCP, bytes, 0));
    if (response.sw === SW.FILE_NOT_FOUND) {
      this.forgetSelection();
      return null;
    }
    if (response.sw !== SW.OK) {
      this.forgetSelection();
      throw new UnexpectedCardAnswerError(`SELECT FILE ${canonical}`, response.sw);
    }
    this.#selected = key;
    this.#selectedSize = fcpFileSize(response.data);
    this.#inApplication = !fromMf;
    return this.#selectedSize;
  }

  /**
   * The whole content of the EF at `path`, read once per card object (later calls answer from memory), or null
   * when the card has no such file.
   */
  async read(path: FilePath): Promise<Uint8Array | null> {
    const { fromMf, canonical } = fileIds(path);
    const key = fromMf ? canonical : `${this.#application}/${canonical}`;
    if (this.#cache.has(key)) return this.#cache.get(key) ?? null;
    const size = await this.select(path);
    const content = size === null ? null : await this.#readSelected(canonical, size);
    this.#cache.set(key, content);
    return content;
  }

  /** The content of a file read before, without any APDU; undefined when it has not been read. */
  cached(path: FilePath): Uint8Array | undefined {
    const { fromMf, canonical } = fileIds(path);
    return this.#cache.get(fromMf ? canonical : `${this.#application}/${canonical}`) ?? undefined;
  }

  async #readSelected(what: string, size: number | undefined): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    while (size === undefined || offset < size) {
      if (offset > MAX_OFFSET) throw new UnexpectedCardAnswerError(`READ BINARY ${what}: file too large`, SW.OK);
      const remaining = size === undefined ? 256 : size - offset;
      const le = remaining >= 256 ? 0 : remaining;
      const response = await this.#channel.send(
        command(0x00, INS_READ_BINARY, offset >> 8, offset & 0xff, undefined, le),
      );
      if (response.sw === SW_WRONG_OFFSET && size === undefined) break;
      if (response.sw !== SW.OK && response.sw !== SW_END_OF_FILE) {
        throw new UnexpectedCardAnswerError(`READ BINARY ${what} at ${offset}`, response.sw);
      }
      if (response.data.length === 0) break;
      chunks.push(response.data);
      offset += response.data.length;
      if (response.sw === SW_END_OF_FILE) break;
    }
    const content = new Uint8Array(offset);
    let at = 0;
    for (const chunk of chunks) {
      content.set(chunk, at);
      at += chunk.length;
    }
    return size === undefined ? content : content.subarray(0, Math.min(size, content.length));
  }
}
