/**
 * The signer's certificate chain, end-entity first, built by matching each certificate's issuer name and authority
 * key identifier to a CA's subject and subject key identifier. CAs come from the data directory
 * (`$XDG_DATA_HOME/kortti/ca/*.pem`, for real cards) and from the test PKI in `fixtures/pki/` (for the virtual
 * card): a test CA can only ever match a certificate it issued, so real cards never pick one up.
 *
 * @example
 * ```ts
 * import { buildChain, loadCertificates, defaultCaDirectories } from "./chain.ts";
 * declare const leaf: Uint8Array;
 * const chain = buildChain(leaf, loadCertificates(defaultCaDirectories()));
 * ```
 * @module
 */

import { parseTlv, type Tlv } from "../card/tlv.ts";
import { derLength } from "../card/cert-facts.ts";

/** The parts of a certificate chain building looks at. */
interface ChainFacts {
  der: Uint8Array;
  issuer: string;
  subject: string;
  subjectKeyId?: string;
  authorityKeyId?: string;
}

const OID_SKI = "551d0e";
const OID_AKI = "551d23";
const MAX_DEPTH = 8;

/**
 * The chain of `leaf` through the certificates of `pool`: `[leaf, issuer, ..., root]`, as far as the pool reaches.
 *
 * @example
 * ```ts
 * import { buildChain } from "./chain.ts";
 * declare const leaf: Uint8Array, intermediate: Uint8Array, root: Uint8Array;
 * buildChain(leaf, [root, intermediate]).length; // 3
 * ```
 */
export function buildChain(leaf: Uint8Array, pool: Uint8Array[]): Uint8Array[] {
  const candidates = pool.flatMap((der) => {
    try {
      return [factsOf(der)];
    } catch {
      return [];
    }
  });
  const chain = [leaf.subarray(0, derLength(leaf))];
  let current = factsOf(chain[0]);
  const seen = new Set([hex(chain[0])]);
  for (let depth = 0; depth < MAX_DEPTH && current.issuer !== current.subject; depth++) {
    const byName = candidates.filter((c) => c.subject === current.issuer && !seen.has(hex(c.der)));
    const issuer = byName.find((c) => current.authorityKeyId && c.subjectKeyId === current.authorityKeyId) ??
      (current.authorityKeyId ? undefined : byName[0]);
    if (!issuer) break;
    chain.push(issuer.der);
    seen.add(hex(issuer.der));
    current = issuer;
  }
  return chain;
}

/**
 * Every certificate in the PEM files (`*.pem`) of the directories; missing directories and unreadable files are
 * skipped (having no CA files is normal: the chain is then the certificate alone).
 *
 * @example
 * ```ts
 * import { loadCertificates } from "./chain.ts";
 * loadCertificates(["/usr/share/kortti/ca"]).length;
 * ```
 */
export function loadCertificates(directories: string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const directory of directories) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(directory)];
    } catch {
      continue;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.name.endsWith(".pem") || entry.name.includes("KEY")) continue;
      try {
        out.push(...pemCertificates(Deno.readTextFileSync(`${directory}/${entry.name}`)));
      } catch {
        // Not readable or not a certificate: not ours to complain about here.
      }
    }
  }
  return out;
}

/**
 * Where CA certificates for chains are looked for: the user's data directory, then the test PKI.
 *
 * @example
 * ```ts
 * import { defaultCaDirectories } from "./chain.ts";
 * defaultCaDirectories(); // ["/home/me/.local/share/kortti/ca", ".../fixtures/pki"]
 * ```
 */
export function defaultCaDirectories(): string[] {
  const directories: string[] = [];
  const dataHome = envOrUndefined("XDG_DATA_HOME") ??
    (envOrUndefined("HOME") ? `${envOrUndefined("HOME")}/.local/share` : undefined);
  if (dataHome) directories.push(`${dataHome}/kortti/ca`);
  const testPki = new URL("../../fixtures/pki", import.meta.url);
  if (testPki.protocol === "file:") directories.push(decodeURIComponent(testPki.pathname));
  return directories;
}

/**
 * The DER certificates of a PEM text.
 *
 * @example
 * ```ts
 * import { pemCertificates } from "./chain.ts";
 * pemCertificates(Deno.readTextFileSync("fixtures/pki/root-ca.pem")).length; // 1
 * ```
 */
export function pemCertificates(pem: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const pattern = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (const match of pem.matchAll(pattern)) {
    const binary = atob(match[1].replace(/\s+/g, ""));
    out.push(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  }
  return out;
}

/** Issuer, subject, SKI and AKI of a DER certificate (names compared as their DER bytes). */
function factsOf(der: Uint8Array): ChainFacts {
  const cert = parseTlv(der.subarray(0, derLength(der)))[0];
  const tbs = cert?.children?.[0]?.children;
  if (!tbs) throw new RangeError("not a certificate");
  const fields = tbs[0].tag === 0xa0 ? tbs.slice(1) : tbs;
  const facts: ChainFacts = { der: cert.raw, issuer: hex(fields[2].raw), subject: hex(fields[4].raw) };
  const extensions = fields.find((f) => f.tag === 0xa3)?.children?.[0]?.children ?? [];
  for (const extension of extensions) {
    const parts = extension.children ?? [];
    const oid = parts[0] ? hex(parts[0].value) : "";
    const value = parts[parts.length - 1]?.value;
    if (!value) continue;
    if (oid === OID_SKI) facts.subjectKeyId = hex(parseTlv(value)[0]?.value ?? new Uint8Array());
    if (oid === OID_AKI) {
      const keyId = (parseTlv(value)[0]?.children ?? []).find((t: Tlv) => t.tag === 0x80);
      if (keyId) facts.authorityKeyId = hex(keyId.value);
    }
  }
  return facts;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function envOrUndefined(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}
