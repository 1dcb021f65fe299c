/**
 * The virtual card's private-key operations on a hash the card was given, as a card does them: ECDSA returning raw
 * r‖s, RSA PKCS#1 v1.5 (the card wraps the DigestInfo) and RSA-PSS (MGF1 with the same hash, salt length = hash
 * length). WebCrypto parses the PKCS#8 TEST keys and hashes for MGF1 and PSS, but it cannot sign a hash computed
 * elsewhere, so the private-key arithmetic is done here with BigInt. The key material never leaves this module.
 *
 * @example
 * ```ts
 * import { CardKey } from "./keys.ts";
 * declare const pkcs8: Uint8Array;
 * const key = await CardKey.fromPkcs8(pkcs8, "EC P-384");
 * const signature = await key.signEcdsa(new Uint8Array(48)); // 96 bytes r‖s
 * ```
 * @module
 */

import { fromHex } from "../apdu.ts";
import type { KeyAlgorithm } from "./profiles.ts";

/** Hash algorithms by the high nibble of the algorithm byte. */
export type HashAlgorithm = "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512";

/** Digest length of each hash. */
export const HASH_LENGTH: Record<HashAlgorithm, number> = {
  "SHA-224": 28,
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

/** DER prefix of the DigestInfo of each hash (the digest follows). */
const DIGEST_INFO_PREFIX: Record<HashAlgorithm, Uint8Array> = {
  "SHA-224": fromHex("302D300D06096086480165030402040500041C"),
  "SHA-256": fromHex("3031300D060960864801650304020105000420"),
  "SHA-384": fromHex("3041300D060960864801650304020205000430"),
  "SHA-512": fromHex("3051300D060960864801650304020305000440"),
};

/**
 * The DigestInfo for a hash, or the hash algorithm of a complete DigestInfo.
 *
 * @example
 * ```ts
 * import { digestInfo } from "./keys.ts";
 * digestInfo("SHA-256", new Uint8Array(32)).length; // 51
 * ```
 */
export function digestInfo(hash: HashAlgorithm, digest: Uint8Array): Uint8Array {
  const prefix = DIGEST_INFO_PREFIX[hash];
  const out = new Uint8Array(prefix.length + digest.length);
  out.set(prefix);
  out.set(digest, prefix.length);
  return out;
}

/**
 * Which hash a DigestInfo is of, when `data` is exactly a DigestInfo of a known hash.
 *
 * @example
 * ```ts
 * import { digestInfo, digestInfoHash } from "./keys.ts";
 * digestInfoHash(digestInfo("SHA-384", new Uint8Array(48))); // "SHA-384"
 * ```
 */
export function digestInfoHash(data: Uint8Array): HashAlgorithm | undefined {
  for (const [hash, prefix] of Object.entries(DIGEST_INFO_PREFIX) as [HashAlgorithm, Uint8Array][]) {
    if (data.length !== prefix.length + HASH_LENGTH[hash]) continue;
    if (prefix.every((b, i) => data[i] === b)) return hash;
  }
  return undefined;
}

// ---- arithmetic ------------------------------------------------------------------------------------------------

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function modPow(base: bigint, exponent: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exponent;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [mod(a, m), m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) throw new RangeError("not invertible");
  return mod(oldS, m);
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex.length === 0 ? 0n : BigInt("0x" + hex);
}

function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, "0");
  if (hex.length > length * 2) throw new RangeError("integer too large");
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function base64UrlToBigInt(text: string): bigint {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return bytesToBigInt(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function randomBelow(n: bigint, bytes: number): bigint {
  for (;;) {
    const candidate = bytesToBigInt(crypto.getRandomValues(new Uint8Array(bytes)));
    if (candidate > 0n && candidate < n) return candidate;
  }
}

// ---- elliptic curves (short Weierstrass, a = -3) -----------------------------------------------------------------

interface Curve {
  p: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  /** Field element and scalar size in bytes. */
  size: number;
}

/** NIST curves (FIPS 186-4, D.1.2). */
const CURVES: Record<"P-256" | "P-384", Curve> = {
  "P-256": {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    size: 32,
  },
  "P-384": {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    size: 48,
  },
};

/** A point in Jacobian coordinates; Z = 0 is the point at infinity. */
type Jacobian = [bigint, bigint, bigint];

function jacobianDouble(c: Curve, [x, y, z]: Jacobian): Jacobian {
  if (z === 0n || y === 0n) return [1n, 1n, 0n];
  const p = c.p;
  const delta = (z * z) % p;
  const gamma = (y * y) % p;
  const beta = (x * gamma) % p;
  const alpha = (3n * mod(x - delta, p) * ((x + delta) % p)) % p;
  const x3 = mod(alpha * alpha - 8n * beta, p);
  const z3 = mod((y + z) * (y + z) - gamma - delta, p);
  const y3 = mod(alpha * (4n * beta - x3) - 8n * gamma * gamma, p);
  return [x3, y3, z3];
}

/** Adds an affine point (x2, y2) to a Jacobian point. */
function jacobianAddAffine(c: Curve, a: Jacobian, x2: bigint, y2: bigint): Jacobian {
  const [x1, y1, z1] = a;
  if (z1 === 0n) return [x2, y2, 1n];
  const p = c.p;
  const z1z1 = (z1 * z1) % p;
  const u2 = (x2 * z1z1) % p;
  const s2 = (y2 * z1 * z1z1) % p;
  const h = mod(u2 - x1, p);
  const r = mod(2n * (s2 - y1), p);
  if (h === 0n) return r === 0n ? jacobianDouble(c, a) : [1n, 1n, 0n];
  const hh = (h * h) % p;
  const i = (4n * hh) % p;
  const j = (h * i) % p;
  const v = (x1 * i) % p;
  const x3 = mod(r * r - j - 2n * v, p);
  const y3 = mod(r * (v - x3) - 2n * y1 * j, p);
  const z3 = mod((z1 + h) * (z1 + h) - z1z1 - hh, p);
  return [x3, y3, z3];
}

function scalarMultiplyBase(c: Curve, k: bigint): { x: bigint; y: bigint } {
  let acc: Jacobian = [1n, 1n, 0n];
  for (let bit = BigInt(k.toString(2).length - 1); bit >= 0n; bit--) {
    acc = jacobianDouble(c, acc);
    if ((k >> bit) & 1n) acc = jacobianAddAffine(c, acc, c.gx, c.gy);
  }
  const zInv = modInverse(acc[2], c.p);
  const zInv2 = (zInv * zInv) % c.p;
  return { x: (acc[0] * zInv2) % c.p, y: (acc[1] * zInv2 * zInv) % c.p };
}

// ---- the key -----------------------------------------------------------------------------------------------------

interface RsaPrivate {
  n: bigint;
  p: bigint;
  q: bigint;
  dp: bigint;
  dq: bigint;
  qi: bigint;
  /** Modulus length in bits. */
  bits: number;
}

/**
 * A private key of the card. Built from a PKCS#8 TEST key; offers only the operations a card offers.
 */
export class CardKey {
  readonly algorithm: KeyAlgorithm;
  readonly #ec?: { curve: Curve; d: bigint };
  readonly #rsa?: RsaPrivate;

  private constructor(algorithm: KeyAlgorithm, ec?: { curve: Curve; d: bigint }, rsa?: RsaPrivate) {
    this.algorithm = algorithm;
    this.#ec = ec;
    this.#rsa = rsa;
  }

  /**
   * Loads a PKCS#8 private key. For EC keys it checks that d·G is the public point of the key, so a wrong curve
   * constant can never produce signatures that do not verify.
   */
  static async fromPkcs8(pkcs8: Uint8Array, algorithm: KeyAlgorithm): Promise<CardKey> {
    if (algorithm === "RSA-2048") {
      const key = await crypto.subtle.importKey(
        "pkcs8",
        pkcs8 as Uint8Array<ArrayBuffer>,
        { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
        true,
        ["sign"],
      );
      const jwk = await crypto.subtle.exportKey("jwk", key);
      const n = base64UrlToBigInt(jwk.n!);
      return new CardKey(algorithm, undefined, {
        n,
        p: base64UrlToBigInt(jwk.p!),
        q: base64UrlToBigInt(jwk.q!),
        dp: base64UrlToBigInt(jwk.dp!),
        dq: base64UrlToBigInt(jwk.dq!),
        qi: base64UrlToBigInt(jwk.qi!),
        bits: n.toString(2).length,
      });
    }
    const namedCurve = algorithm === "EC P-256" ? "P-256" : "P-384";
    const key = await crypto.subtle.importKey(
      "pkcs8",
      pkcs8 as Uint8Array<ArrayBuffer>,
      { name: "ECDSA", namedCurve },
      true,
      ["sign"],
    );
    const jwk = await crypto.subtle.exportKey("jwk", key);
    const curve = CURVES[namedCurve];
    const d = base64UrlToBigInt(jwk.d!);
    const q = scalarMultiplyBase(curve, d);
    if (q.x !== base64UrlToBigInt(jwk.x!) || q.y !== base64UrlToBigInt(jwk.y!)) {
      throw new Error(`virtual card: the ${namedCurve} arithmetic does not reproduce the public key`);
    }
    return new CardKey(algorithm, { curve, d });
  }

  /** Whether this is an EC key. */
  get isEc(): boolean {
    return this.#ec !== undefined;
  }

  /** Signature length in bytes: 2 × field size for ECDSA, the modulus length for RSA. */
  get signatureLength(): number {
    return this.#ec ? 2 * this.#ec.curve.size : Math.ceil(this.#rsa!.bits / 8);
  }

  /**
   * ECDSA over a hash: the hash is taken as an integer and cut to the order's bit length (so a hash left-padded
   * with zeros gives the same signature input). Returns r‖s.
   */
  signEcdsa(hash: Uint8Array): Promise<Uint8Array> {
    const ec = this.#ec;
    if (!ec) throw new Error("not an EC key");
    const { curve, d } = ec;
    const orderBits = curve.n.toString(2).length;
    let e = bytesToBigInt(hash);
    if (hash.length * 8 > orderBits) e >>= BigInt(hash.length * 8 - orderBits);
    for (;;) {
      const k = randomBelow(curve.n, curve.size);
      const r = scalarMultiplyBase(curve, k).x % curve.n;
      if (r === 0n) continue;
      const s = (modInverse(k, curve.n) * ((e + r * d) % curve.n)) % curve.n;
      if (s === 0n) continue;
      const out = new Uint8Array(2 * curve.size);
      out.set(bigIntToBytes(r, curve.size));
      out.set(bigIntToBytes(s, curve.size), curve.size);
      return Promise.resolve(out);
    }
  }

  /** RSA PKCS#1 v1.5 over a complete DigestInfo (EMSA-PKCS1-v1_5, type 1 padding). */
  signPkcs1(digestInfoBytes: Uint8Array): Promise<Uint8Array> {
    const rsa = this.#rsaKey();
    const k = Math.ceil(rsa.bits / 8);
    if (digestInfoBytes.length > k - 11) throw new RangeError("DigestInfo too long for the key");
    const em = new Uint8Array(k).fill(0xff);
    em[0] = 0x00;
    em[1] = 0x01;
    em[k - digestInfoBytes.length - 1] = 0x00;
    em.set(digestInfoBytes, k - digestInfoBytes.length);
    return Promise.resolve(this.#rsaPrivate(em));
  }

  /** RSASSA-PSS over a hash: MGF1 with the same hash, salt length = hash length, trailer BC. */
  async signPss(hash: HashAlgorithm, mHash: Uint8Array): Promise<Uint8Array> {
    const rsa = this.#rsaKey();
    const hLen = HASH_LENGTH[hash];
    const sLen = hLen;
    const emBits = rsa.bits - 1;
    const emLen = Math.ceil(emBits / 8);
    if (emLen < hLen + sLen + 2) throw new RangeError("key too short for PSS");
    const salt = crypto.getRandomValues(new Uint8Array(sLen));
    const mPrime = new Uint8Array(8 + hLen + sLen);
    mPrime.set(mHash, 8);
    mPrime.set(salt, 8 + hLen);
    const h = new Uint8Array(await crypto.subtle.digest(hash, mPrime));
    const db = new Uint8Array(emLen - hLen - 1);
    db[emLen - sLen - hLen - 2] = 0x01;
    db.set(salt, emLen - sLen - hLen - 1);
    const mask = await mgf1(hash, h, db.length);
    for (let i = 0; i < db.length; i++) db[i] ^= mask[i];
    db[0] &= 0xff >> (8 * emLen - emBits);
    const em = new Uint8Array(emLen);
    em.set(db);
    em.set(h, db.length);
    em[emLen - 1] = 0xbc;
    const k = Math.ceil(rsa.bits / 8);
    const padded = new Uint8Array(k);
    padded.set(em, k - emLen);
    return this.#rsaPrivate(padded);
  }

  #rsaKey(): RsaPrivate {
    if (!this.#rsa) throw new Error("not an RSA key");
    return this.#rsa;
  }

  /** m^d mod n by the Chinese remainder theorem. */
  #rsaPrivate(message: Uint8Array): Uint8Array {
    const { n, p, q, dp, dq, qi, bits } = this.#rsaKey();
    const m = bytesToBigInt(message);
    if (m >= n) throw new RangeError("message representative out of range");
    const m1 = modPow(m, dp, p);
    const m2 = modPow(m, dq, q);
    const h = mod(qi * (m1 - m2), p);
    return bigIntToBytes(m2 + h * q, Math.ceil(bits / 8));
  }
}

async function mgf1(hash: HashAlgorithm, seed: Uint8Array, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  const hLen = HASH_LENGTH[hash];
  const block = new Uint8Array(seed.length + 4);
  block.set(seed);
  for (let counter = 0, at = 0; at < length; counter++, at += hLen) {
    block.set([counter >>> 24, (counter >>> 16) & 0xff, (counter >>> 8) & 0xff, counter & 0xff], seed.length);
    const digest = new Uint8Array(await crypto.subtle.digest(hash, block));
    out.set(digest.subarray(0, Math.min(hLen, length - at)), at);
  }
  return out;
}
