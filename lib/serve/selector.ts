/**
 * Choosing the card's key for an SCS request: `nonrepudiation` among the requested key usages means the qualified
 * signature key (PIN2), anything else the authentication key (PIN1), as clients expect; then that key's certificate
 * must satisfy the rest of the selector (issuers, authority key ids, key usages, key algorithms), else the answer is
 * 404, never a guess.
 *
 * @example
 * ```ts
 * import { keyForSelector, matchCertificate } from "./selector.ts";
 * declare const der: Uint8Array;
 * const key = keyForSelector({ issuers: [], akis: [], keyusages: ["nonrepudiation"], keyalgorithms: [],
 *   strictKeypolicy: false }); // "sign"
 * const verdict = matchCertificate(der, { issuers: [], akis: [], keyusages: [], keyalgorithms: ["ec"],
 *   strictKeypolicy: false });
 * console.log(key, verdict.matches);
 * ```
 * @module
 */

import { x509 } from "../x509.ts";
import type { KeyName } from "../card/card.ts";
import type { SelectorSpec } from "./request.ts";

/** What the selector logic learned about a certificate. */
export interface CertificateMatch {
  /** Whether the certificate satisfies the selector. */
  matches: boolean;
  /** Why not, when it does not. */
  reason?: string;
  /** The subject's common name (the holder), when present. */
  holder?: string;
  /** `rsa` or `ec`. */
  keyAlgorithm: "rsa" | "ec" | "unknown";
}

/**
 * The key a selector asks for: `sign` when `nonrepudiation` is among the key usages, else `auth`.
 *
 * @example
 * ```ts
 * import { keyForSelector } from "./selector.ts";
 * console.log(keyForSelector({ issuers: [], akis: [], keyusages: [], keyalgorithms: [], strictKeypolicy: false }));
 * ```
 */
export function keyForSelector(selector: SelectorSpec): KeyName {
  return selector.keyusages.includes("nonrepudiation") ? "sign" : "auth";
}

/**
 * Checks one certificate (DER) against the selector and an optional key algorithm the client named.
 *
 * @example
 * ```ts
 * import { matchCertificate } from "./selector.ts";
 * declare const der: Uint8Array;
 * console.log(matchCertificate(der, { issuers: ["CN=X, C=FI"], akis: [], keyusages: [], keyalgorithms: [],
 *   strictKeypolicy: false }).reason);
 * ```
 */
export function matchCertificate(
  der: Uint8Array,
  selector: SelectorSpec,
  signatureAlgorithm?: "rsa" | "ec",
): CertificateMatch {
  const cert = new x509.X509Certificate(der.slice());
  const holder = commonName(cert);
  const keyAlgorithm = keyAlgorithmOf(cert);
  const no = (reason: string): CertificateMatch => ({ matches: false, reason, holder, keyAlgorithm });
  if (selector.issuers.length > 0) {
    const issuer = dnKey(cert.issuer);
    if (!selector.issuers.some((i) => dnKey(i) === issuer)) return no(`issuer is ${cert.issuer}`);
  }
  if (selector.akis.length > 0) {
    const aki = cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId?.toLowerCase();
    if (!aki || !selector.akis.some((a) => hex(a) === aki)) return no("authority key identifier differs");
  }
  if (selector.keyalgorithms.length > 0 && !selector.keyalgorithms.includes(keyAlgorithm as "rsa" | "ec")) {
    return no(`the key is ${keyAlgorithm.toUpperCase()}`);
  }
  if (signatureAlgorithm && signatureAlgorithm !== keyAlgorithm) return no(`the key is ${keyAlgorithm.toUpperCase()}`);
  if (selector.keyusages.length > 0) {
    const usages = keyUsagesOf(cert);
    const wanted = new Set(selector.keyusages);
    const ok = selector.strictKeypolicy
      ? [...usages].every((u) => wanted.has(u)) && [...wanted].every((u) => usages.has(u))
      : [...wanted].some((u) => usages.has(u));
    if (!ok) return no(`key usage is ${[...usages].join(", ") || "none"}`);
  }
  return { matches: true, holder, keyAlgorithm };
}

function keyUsagesOf(cert: x509.X509Certificate): Set<string> {
  const out = new Set<string>();
  const ku = cert.getExtension(x509.KeyUsagesExtension);
  if (!ku) return out;
  if (ku.usages & x509.KeyUsageFlags.digitalSignature) out.add("digitalsignature");
  if (ku.usages & x509.KeyUsageFlags.nonRepudiation) out.add("nonrepudiation");
  return out;
}

function keyAlgorithmOf(cert: x509.X509Certificate): "rsa" | "ec" | "unknown" {
  const name = cert.publicKey.algorithm.name;
  if (name === "ECDSA" || name === "ECDH") return "ec";
  if (/^RSA/.test(name)) return "rsa";
  return "unknown";
}

function commonName(cert: x509.X509Certificate): string | undefined {
  const match = cert.subjectName.getField("CN");
  return match.length > 0 ? match[0] : undefined;
}

/**
 * A comparison key for a distinguished name: attribute type=value pairs, case and accents folded, spaces trimmed,
 * sorted, so `CN=A, O=B, C=FI` and `C=FI,O=b,CN=a` compare equal.
 *
 * @example
 * ```ts
 * import { dnKey } from "./selector.ts";
 * console.log(dnKey("CN=Väestö, C=FI") === dnKey("c=fi,cn=vaesto")); // true
 * ```
 */
export function dnKey(dn: string): string {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === "\\" && i + 1 < dn.length) {
      current += dn[++i];
    } else if (c === "," || c === ";" || c === "+") {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const type = (eq < 0 ? p : p.slice(0, eq)).trim().toUpperCase();
      const value = eq < 0 ? "" : p.slice(eq + 1).trim().replace(/^"|"$/g, "");
      return `${type}=${fold(value)}`;
    })
    .sort()
    .join(",");
}

function fold(value: string): string {
  return value.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/\s+/g, " ").toLowerCase();
}

function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
