/**
 * Signatures made by the virtual card through its APDUs (VERIFY, MSE:SET DST, PSO:HASH, PSO:CDS), verified by
 * `openssl dgst -verify` against the public key of the fixture certificate: RSA PKCS#1 v1.5, RSA-PSS (salt = hash
 * length), ECDSA P-256 and P-384 (r‖s converted to DER), and the organisation card's inline DigestInfo.
 * @module
 */

import { fromHex, toHex } from "../lib/apdu.ts";
import { VirtualCard, type VirtualProfile } from "../lib/virtual-card/mod.ts";
import { assertEquals } from "./helpers/assert.ts";
import { openssl } from "./helpers/openssl.ts";

const SELECT_AID = fromHex("00A4040C0CA000000063504B43532D3135");

async function transmit(card: VirtualCard, apdu: Uint8Array | string): Promise<Uint8Array> {
  const raw = await card.transmit(typeof apdu === "string" ? fromHex(apdu) : apdu);
  const sw = toHex(raw.subarray(raw.length - 2));
  assertEquals(sw, "9000", `${typeof apdu === "string" ? apdu : toHex(apdu)} answered ${sw}`);
  return raw.subarray(0, raw.length - 2);
}

function pinApdu(reference: number, pin: string, padded: boolean): Uint8Array {
  const digits = new TextEncoder().encode(pin);
  const body = padded ? new Uint8Array(12) : new Uint8Array(digits.length);
  body.set(digits);
  return new Uint8Array([0x00, 0x20, 0x00, reference, body.length, ...body]);
}

function apdu(header: number[], data: Uint8Array, le?: number): Uint8Array {
  return new Uint8Array([...header, data.length, ...data, ...(le === undefined ? [] : [le])]);
}

/** DER INTEGER of an unsigned big-endian value. */
function derInteger(value: Uint8Array): number[] {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const bytes = [...value.subarray(start)];
  if (bytes[0] & 0x80) bytes.unshift(0);
  return [0x02, bytes.length, ...bytes];
}

/** r‖s as the DER `SEQUENCE { r INTEGER, s INTEGER }` X.509 and openssl want. */
function ecdsaDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  const body = [...derInteger(raw.subarray(0, half)), ...derInteger(raw.subarray(half))];
  return new Uint8Array([0x30, ...(body.length > 127 ? [0x81, body.length] : [body.length]), ...body]);
}

interface Case {
  profile: VirtualProfile;
  certificate: string;
  pin: { reference: number; value: string };
  key: number;
  algorithm: number;
  hash: "sha256" | "sha384";
  /** Left-pad the hash to this many bytes in PSO:HASH (OpenSC does this for v4). */
  padTo?: number;
  /** Organisation cards: the digest goes inline, as a DigestInfo or bare. */
  inline?: "digestInfo" | "bare";
  sigopts?: string[];
  ecdsa?: boolean;
}

const SHA256_DIGEST_INFO = fromHex("3031300D060960864801650304020105000420");

async function signAndVerify(c: Case): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kortti-vc-sig-" });
  try {
    const data = new TextEncoder().encode(`kortti virtual card ${c.profile} ${c.algorithm.toString(16)}\n`);
    await Deno.writeFile(`${dir}/data`, data);
    const digest = new Uint8Array(await crypto.subtle.digest(c.hash === "sha256" ? "SHA-256" : "SHA-384", data));
    const card = await VirtualCard.create({ profile: c.profile });
    let signature: Uint8Array;
    if (c.inline) {
      await transmit(card, "00A4040C06" + toHex(new TextEncoder().encode("E.SIGN")));
      await transmit(card, pinApdu(c.pin.reference, c.pin.value, false));
      await transmit(
        card,
        apdu([0x00, 0x22, 0x41, 0xb6], new Uint8Array([0x80, 0x01, c.algorithm, 0x84, 0x01, c.key])),
      );
      const payload = c.inline === "bare" ? digest : new Uint8Array([...SHA256_DIGEST_INFO, ...digest]);
      signature = await transmit(card, apdu([0x00, 0x2a, 0x9e, 0x9a], payload, 0));
    } else {
      await transmit(card, SELECT_AID);
      await transmit(card, pinApdu(c.pin.reference, c.pin.value, true));
      await transmit(
        card,
        apdu([0x00, 0x22, 0x41, 0xb6], new Uint8Array([0x80, 0x01, c.algorithm, 0x84, 0x01, c.key])),
      );
      const hash = new Uint8Array(Math.max(c.padTo ?? 0, digest.length));
      hash.set(digest, hash.length - digest.length);
      await transmit(card, apdu([0x00, 0x2a, 0x90, 0xa0], new Uint8Array([0x90, hash.length, ...hash])));
      signature = await transmit(card, fromHex("002A9E9A00"));
    }
    await Deno.writeFile(`${dir}/sig`, c.ecdsa ? ecdsaDer(signature) : signature);
    const certificate = new URL(`../fixtures/pki/${c.certificate}`, import.meta.url).pathname;
    const pubkey = await openssl(["x509", "-in", certificate, "-pubkey", "-noout", "-out", `${dir}/pub.pem`]);
    assertEquals(pubkey.code, 0, pubkey.output);
    const result = await openssl([
      "dgst",
      `-${c.hash}`,
      "-verify",
      `${dir}/pub.pem`,
      ...(c.sigopts ?? []),
      "-signature",
      `${dir}/sig`,
      `${dir}/data`,
    ]);
    assertEquals(result.output.trim(), "Verified OK", result.output);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const PIN1 = { reference: 0x11, value: "1234" };
const PIN2 = { reference: 0x82, value: "123456" };
const PSS = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest", "-sigopt", "rsa_mgf1_md:sha256"];

Deno.test("v3 authentication key: RSA PKCS#1 v1.5 (alg 42) verifies with openssl", async () => {
  await signAndVerify({
    profile: "v3",
    certificate: "v3-auth.pem",
    pin: PIN1,
    key: 0x01,
    algorithm: 0x42,
    hash: "sha256",
  });
});

Deno.test("v3 authentication key: RSA-PSS (alg 45, salt = hash length) verifies with openssl", async () => {
  await signAndVerify({
    profile: "v3",
    certificate: "v3-auth.pem",
    pin: PIN1,
    key: 0x01,
    algorithm: 0x45,
    hash: "sha256",
    sigopts: PSS,
  });
});

Deno.test("v3 signature key: ECDSA P-256 (alg 44, key 03) verifies with openssl", async () => {
  await signAndVerify({
    profile: "v3",
    certificate: "v3-sign.pem",
    pin: PIN2,
    key: 0x03,
    algorithm: 0x44,
    hash: "sha256",
    ecdsa: true,
  });
});

Deno.test("v4 authentication key: ECDSA P-384 (alg 54) verifies with openssl", async () => {
  await signAndVerify({
    profile: "v4",
    certificate: "v4-auth.pem",
    pin: PIN1,
    key: 0x01,
    algorithm: 0x54,
    hash: "sha384",
    ecdsa: true,
  });
});

Deno.test("v4 signature key: ECDSA P-384 over SHA-256 left-padded to 48 bytes as OpenSC sends it", async () => {
  await signAndVerify({
    profile: "v4",
    certificate: "v4-sign.pem",
    pin: PIN2,
    key: 0x02,
    algorithm: 0x44,
    hash: "sha256",
    padTo: 48,
    ecdsa: true,
  });
});

Deno.test("organisation signature key 82: PKCS#1 over an inline DigestInfo and over a bare hash", async () => {
  for (const inline of ["digestInfo", "bare"] as const) {
    await signAndVerify({
      profile: "org",
      certificate: "org-sign.pem",
      pin: { reference: 0x04, value: "123456" },
      key: 0x82,
      algorithm: 0x42,
      hash: "sha256",
      inline,
    });
  }
});
