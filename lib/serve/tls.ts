/**
 * The local TLS identity of `serve`: on first start, a local CA and a server certificate in `<data dir>/tls/`. The CA
 * carries critical X.509 name constraints that permit only the names and addresses the service answers on, so even
 * a stolen CA key cannot be used to impersonate another site. The server certificate is renewed (by the same CA)
 * when it nears expiry or its names change; keys are written 0600, everything atomically.
 *
 * @example
 * ```ts
 * import { ensureTlsIdentity } from "./tls.ts";
 * const tls = await ensureTlsIdentity("/tmp/kortti-data");
 * Deno.serve({ port: 53952, hostname: "127.0.0.1", cert: tls.certPem, key: tls.keyPem }, () => new Response("hi"));
 * ```
 * @module
 */

import { x509 } from "../x509.ts";
import { readTextIfExists, writeDataFile } from "./files.ts";

/** DNS names the server certificate (and the CA's constraints) cover. */
export const SERVICE_DNS_NAMES = ["localhost", "erasmartcard.ehoito.fi"] as const;
/** IP addresses the server certificate (and the CA's constraints) cover. */
export const SERVICE_IP_ADDRESSES = ["127.0.0.1", "::1"] as const;
/** The CA's subject common name; also the NSS nickname prefix. */
export const CA_COMMON_NAME = "kortti local CA";

const CA_YEARS = 10;
const SERVER_DAYS = 397;
const RENEW_DAYS = 30;
const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;

/** The TLS material `serve` uses. */
export interface TlsIdentity {
  /** Server certificate followed by the CA certificate, PEM (what Deno.serve presents). */
  certPem: string;
  /** Server private key, PKCS#8 PEM. */
  keyPem: string;
  /** The CA certificate, PEM. */
  caPem: string;
  /** Paths of the files in the data directory. */
  paths: TlsPaths;
  /** SHA-256 fingerprint of the CA certificate, hex with colons. */
  caFingerprint: string;
  /** When the server certificate expires. */
  serverNotAfter: Date;
  /** When the CA certificate expires. */
  caNotAfter: Date;
  /** What was created on this start: nothing, the server certificate, or both. */
  created: "nothing" | "server" | "ca-and-server";
}

/** Where the TLS files live. */
export interface TlsPaths {
  /** Directory `<data dir>/tls`. */
  dir: string;
  /** CA certificate. */
  caCert: string;
  /** CA private key (0600). */
  caKey: string;
  /** Server certificate (server then CA). */
  serverCert: string;
  /** Server private key (0600). */
  serverKey: string;
}

/**
 * The file names of the TLS identity in a data directory.
 *
 * @example
 * ```ts
 * import { tlsPaths } from "./tls.ts";
 * console.log(tlsPaths("/tmp/d").caCert); // /tmp/d/tls/ca.pem
 * ```
 */
export function tlsPaths(dataDir: string): TlsPaths {
  const dir = `${dataDir}/tls`;
  return {
    dir,
    caCert: `${dir}/ca.pem`,
    caKey: `${dir}/ca-key.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server-key.pem`,
  };
}

/**
 * Loads the CA and server certificate from the data directory, creating or renewing what is missing or stale.
 *
 * @example
 * ```ts
 * import { ensureTlsIdentity } from "./tls.ts";
 * const { caFingerprint, created } = await ensureTlsIdentity("/tmp/kortti-data");
 * console.log(created, caFingerprint);
 * ```
 */
export async function ensureTlsIdentity(dataDir: string, now = new Date()): Promise<TlsIdentity> {
  const paths = tlsPaths(dataDir);
  let created: TlsIdentity["created"] = "nothing";
  let ca = await loadPair(paths.caCert, paths.caKey);
  if (ca === undefined || ca.cert.notAfter.getTime() < now.getTime() + RENEW_DAYS * 86_400_000) {
    ca = await createCa(now);
    await writeDataFile(paths.caKey, await privateKeyPem(ca.keys.privateKey), 0o600);
    await writeDataFile(paths.caCert, ca.cert.toString("pem") + "\n", 0o644);
    created = "ca-and-server";
  }
  let server = await loadPair(paths.serverCert, paths.serverKey);
  if (created !== "nothing" || server === undefined || !serverStillGood(server.cert, ca.cert, now)) {
    server = await createServer(ca, now);
    await writeDataFile(paths.serverKey, await privateKeyPem(server.keys.privateKey), 0o600);
    await writeDataFile(paths.serverCert, server.cert.toString("pem") + "\n" + ca.cert.toString("pem") + "\n", 0o644);
    if (created === "nothing") created = "server";
  }
  return {
    certPem: server.cert.toString("pem") + "\n" + ca.cert.toString("pem") + "\n",
    keyPem: await privateKeyPem(server.keys.privateKey),
    caPem: ca.cert.toString("pem") + "\n",
    paths,
    caFingerprint: await fingerprint(ca.cert),
    serverNotAfter: server.cert.notAfter,
    caNotAfter: ca.cert.notAfter,
    created,
  };
}

/**
 * The SHA-256 fingerprint of a certificate, upper-case hex with colons (as browsers show it).
 *
 * @example
 * ```ts
 * import { fingerprint } from "./tls.ts";
 * import { x509 } from "../x509.ts";
 * console.log(await fingerprint(new x509.X509Certificate(Deno.readTextFileSync("/tmp/d/tls/ca.pem"))));
 * ```
 */
export async function fingerprint(cert: x509.X509Certificate): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(cert.rawData)));
  return [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/**
 * The DER of a critical-worthy NameConstraints value permitting only the given DNS names and single IP addresses
 * (RFC 5280 4.2.1.10: an iPAddress subtree is the address followed by its mask, here all ones).
 *
 * @example
 * ```ts
 * import { nameConstraintsDer } from "./tls.ts";
 * const der = nameConstraintsDer(["localhost"], ["127.0.0.1"]);
 * console.log(der[0] === 0x30);
 * ```
 */
export function nameConstraintsDer(
  dnsNames: readonly string[],
  ipAddresses: readonly string[],
): Uint8Array<ArrayBuffer> {
  const subtrees: Uint8Array[] = [];
  for (const name of dnsNames) subtrees.push(tlv(0x30, tlv(0x82, new TextEncoder().encode(name))));
  for (const ip of ipAddresses) {
    const address = ipBytes(ip);
    subtrees.push(tlv(0x30, tlv(0x87, concat(address, new Uint8Array(address.length).fill(0xff)))));
  }
  return tlv(0x30, tlv(0xa0, concat(...subtrees)));
}

interface Pair {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

async function loadPair(certPath: string, keyPath: string): Promise<Pair | undefined> {
  const certPem = await readTextIfExists(certPath);
  const keyPem = await readTextIfExists(keyPath);
  if (certPem === undefined || keyPem === undefined) return undefined;
  try {
    const cert = new x509.X509Certificate(firstPem(certPem));
    const privateKey = await crypto.subtle.importKey("pkcs8", pemBody(keyPem), EC, true, ["sign"]);
    const publicKey = await cert.publicKey.export(EC, ["verify"]);
    return { cert, keys: { privateKey, publicKey } };
  } catch {
    return undefined; // unreadable or foreign files are replaced, never trusted half-way
  }
}

function serverStillGood(server: x509.X509Certificate, ca: x509.X509Certificate, now: Date): boolean {
  if (server.issuer !== ca.subject) return false;
  if (server.notAfter.getTime() < now.getTime() + RENEW_DAYS * 86_400_000) return false;
  const san = server.getExtension(x509.SubjectAlternativeNameExtension);
  if (!san) return false;
  const names = san.names.items.map((n) => `${n.type}:${n.value}`).sort().join(",");
  return names === wantedSanNames().sort().join(",");
}

function wantedSanNames(): string[] {
  return [...SERVICE_DNS_NAMES.map((n) => `dns:${n}`), ...SERVICE_IP_ADDRESSES.map((n) => `ip:${n}`)];
}

async function createCa(now: Date): Promise<Pair> {
  const keys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]) as CryptoKeyPair;
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
  const host = hostLabel();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${CA_COMMON_NAME} (${host}), O=kortti`,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter,
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.Extension("2.5.29.30", true, nameConstraintsDer(SERVICE_DNS_NAMES, SERVICE_IP_ADDRESSES)),
    ],
  });
  return { cert, keys };
}

async function createServer(ca: Pair, now: Date): Promise<Pair> {
  const keys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=localhost, O=kortti",
    issuer: ca.cert.subject,
    notBefore: new Date(now.getTime() - 3_600_000),
    notAfter: new Date(now.getTime() + SERVER_DAYS * 86_400_000),
    signingAlgorithm: SIGNING,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...SERVICE_DNS_NAMES.map((value) => ({ type: "dns" as const, value })),
        ...SERVICE_IP_ADDRESSES.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { cert, keys };
}

function hostLabel(): string {
  try {
    return Deno.hostname().replace(/[^A-Za-z0-9.-]/g, "").slice(0, 40) || "localhost";
  } catch {
    return "localhost";
  }
}

function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive INTEGER
  bytes[0] |= 0x01;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  return pem("PRIVATE KEY", der);
}

function pem(label: string, der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN ${label}-----\n${b64.replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;
}

function firstPem(text: string): string {
  const match = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/);
  if (!match) throw new Error("no certificate");
  return match[0];
}

function pemBody(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function ipBytes(ip: string): Uint8Array {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return new Uint8Array(ip.split(".").map(Number));
  const [head, tail] = ip.includes("::") ? ip.split("::") : [ip, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = [...left, ...new Array(8 - left.length - right.length).fill("0"), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}

function tlv(tag: number, value: Uint8Array): Uint8Array<ArrayBuffer> {
  const n = value.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return concat(new Uint8Array([tag, ...length]), value);
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
