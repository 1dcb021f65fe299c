// The card layer against the in-process virtual card (v3, v4, org): certificates byte for byte as the fixtures,
// PIN state, signatures that verify against the certificates, the PIN rules (last try, blocked, wrong PIN, wrong
// length, buffer zeroed), the exact APDU count of list-certs, and a card pulled after every possible APDU.

import { assert, assertEquals, assertRejects } from "./helpers/assert.ts";
import { toHex } from "../lib/apdu.ts";
import { openCard } from "../lib/open.ts";
import type { Card, CardSignRequest, HashName, KeyName, PinProvider, SignatureScheme } from "../lib/card/card.ts";
import { parseTlv } from "../lib/card/tlv.ts";
import {
  CardRemovedError,
  NoMatchingKeyError,
  PinBlockedError,
  PinFormatError,
  PinLastTryError,
  PinWrongError,
  UsageError,
} from "../lib/errors.ts";
import type { VirtualCardOptions } from "../lib/virtual-card/mod.ts";
import { ROOT } from "./helpers/run_kortti.ts";

type Profile = "v3" | "v4" | "org";
const PROFILES: Profile[] = ["v3", "v4", "org"];
const PINS = { PIN1: "1234", PIN2: "123456", PUK: "12345678" };

function derOfPem(pem: string): Uint8Array {
  return Uint8Array.from(atob(pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, "")), (c) => c.charCodeAt(0));
}

function fixture(profile: Profile, key: KeyName): Uint8Array {
  return derOfPem(Deno.readTextFileSync(`${ROOT}/fixtures/pki/${profile}-${key}.pem`));
}

async function withCard<T>(options: VirtualCardOptions, work: (card: Card) => Promise<T>): Promise<T> {
  const card = await openCard({ virtualCard: options });
  try {
    return await work(card);
  } finally {
    await card.close();
  }
}

/** A PIN provider that records what it was asked and hands out a buffer the test can inspect afterwards. */
function pinSource(pin: string) {
  const handed: Uint8Array[] = [];
  const asked: Parameters<PinProvider>[0][] = [];
  const provider: PinProvider = (request) => {
    asked.push(request);
    const buffer = new TextEncoder().encode(pin);
    handed.push(buffer);
    return Promise.resolve(buffer);
  };
  return { provider, handed, asked };
}

function sha(hash: HashName): string {
  return { sha256: "SHA-256", sha384: "SHA-384", sha512: "SHA-512" }[hash];
}

/** Verifies a card signature with WebCrypto against the certificate's public key. */
async function verifies(
  der: Uint8Array,
  data: Uint8Array,
  signature: Uint8Array,
  hash: HashName,
  scheme: SignatureScheme,
): Promise<boolean> {
  const tbs = parseTlv(der)[0].children![0].children!;
  const spki = new Uint8Array(tbs[tbs[0].tag === 0xa0 ? 6 : 5].raw);
  const ecCurve = toHex(spki).includes("2B81040022") ? "P-384" : "P-256";
  const isEc = toHex(spki).includes("2A8648CE3D0201");
  const algorithm = isEc
    ? { name: "ECDSA", namedCurve: ecCurve }
    : { name: scheme === "pss" ? "RSA-PSS" : "RSASSA-PKCS1-v1_5", hash: sha(hash) };
  const key = await crypto.subtle.importKey("spki", spki, algorithm, false, ["verify"]);
  const params = isEc
    ? { name: "ECDSA", hash: sha(hash) }
    : scheme === "pss"
    ? { name: "RSA-PSS", saltLength: { sha256: 32, sha384: 48, sha512: 64 }[hash] }
    : { name: "RSASSA-PKCS1-v1_5" };
  return await crypto.subtle.verify(params, key, new Uint8Array(signature), new Uint8Array(data));
}

async function digestOf(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(sha(hash), new Uint8Array(data)));
}

Deno.test("each profile's certificates are the fixture certificates byte for byte, with family, serial and PINs", async () => {
  const families = { v3: "fineid-v3", v4: "fineid-v4", org: "dvv-org" };
  for (const profile of PROFILES) {
    await withCard({ profile }, async (card) => {
      assertEquals(card.family, families[profile]);
      const certificates = await card.certificates();
      assertEquals(certificates.map((c) => c.key), ["auth", "sign"]);
      for (const c of certificates) assertEquals(toHex(c.der), toHex(fixture(profile, c.key)), `${profile} ${c.key}`);
      assertEquals(await card.serialNumber(), { v3: "999000301", v4: "999000401", org: "999000901" }[profile]);
      for (const name of ["PIN1", "PIN2", "PUK"] as const) {
        const state = await card.pinStatus(name);
        assertEquals([state.triesLeft, state.blocked], [5, false], `${profile} ${name}`);
      }
    });
  }
});

Deno.test("list-certs on the v4 card sends exactly 16 APDUs: 2 SELECT + 10 READ BINARY + 2 GET DATA + 2 token info", async () => {
  // 4331 is 844 bytes and 5016/4332 871: five READ BINARY each at 181 bytes a chunk.
  await withCard({ profile: "v4" }, async (card) => {
    const certificates = await card.certificates();
    assertEquals(card.apduCount, 12);
    for (const c of certificates) await card.pinStatus(c.pin);
    assertEquals(card.apduCount, 14);
    await card.serialNumber();
    assertEquals(card.apduCount, 16);
    // Read once per card object: asking again costs nothing.
    await card.certificates();
    await card.serialNumber();
    assertEquals(card.apduCount, 16);
  });
});

Deno.test("every key of every profile signs, and the signature verifies against its certificate", async () => {
  const data = new TextEncoder().encode("kortti signs this");
  const cases: [Profile, KeyName, HashName, SignatureScheme | undefined][] = [
    ["v4", "auth", "sha384", undefined],
    ["v4", "sign", "sha384", undefined],
    ["v4", "sign", "sha256", undefined],
    ["v3", "auth", "sha256", "pss"],
    ["v3", "auth", "sha256", "pkcs1"],
    ["v3", "sign", "sha256", undefined],
    ["org", "auth", "sha256", "pkcs1"],
    ["org", "sign", "sha256", "pkcs1"],
  ];
  for (const [profile, key, hash, scheme] of cases) {
    await withCard({ profile }, async (card) => {
      const pin = pinSource(key === "auth" ? PINS.PIN1 : PINS.PIN2);
      const request: CardSignRequest = { key, digest: await digestOf(hash, data), hash, pin: pin.provider };
      if (scheme) request.scheme = scheme;
      const before = card.apduCount;
      const signature = await card.sign(request);
      const effective = scheme ?? (profile === "v3" && key === "auth" ? "pss" : "ecdsa");
      assert(await verifies(fixture(profile, key), data, signature, hash, effective), `${profile} ${key} ${hash}`);
      if (profile !== "org") {
        // SELECT application, GET DATA, VERIFY, MSE:SET DST, PSO:HASH, PSO:CDS.
        assertEquals(card.apduCount - before, 6, `${profile} ${key} APDUs`);
      }
      assertEquals(pin.asked.length, 1);
      assertEquals(pin.asked[0].triesLeft, 5);
      assert(pin.handed[0].every((b) => b === 0), "the PIN buffer is zeroed after VERIFY");
    });
  }
});

Deno.test("two wrong PINs: PinWrongError with 4 then 3 tries left, and the status says 3", async () => {
  for (const profile of PROFILES) {
    await withCard({ profile }, async (card) => {
      const digest = new Uint8Array(32);
      for (const expected of [4, 3]) {
        const wrong = pinSource("999999");
        const error = await assertRejects(
          () => card.sign({ key: "sign", digest, hash: "sha256", pin: wrong.provider }),
          PinWrongError,
        );
        assertEquals((error as PinWrongError).triesLeft, expected);
        assert(wrong.handed[0].every((b) => b === 0));
      }
      assertEquals((await card.pinStatus("PIN2")).triesLeft, 3, profile);
      assertEquals((await card.pinStatus("PIN1")).triesLeft, 5, profile);
    });
  }
});

Deno.test("the last try is not spent unasked, a blocked PIN is not asked for, a malformed PIN costs no try", async () => {
  const digest = new Uint8Array(48);
  await withCard({ profile: "v4", triesLeft: { PIN2: 1 } }, async (card) => {
    const pin = pinSource(PINS.PIN2);
    await assertRejects(() => card.sign({ key: "sign", digest, hash: "sha384", pin: pin.provider }), PinLastTryError);
    assertEquals(pin.asked.length, 0);
    assertEquals((await card.pinStatus("PIN2")).triesLeft, 1);
    const signature = await card.sign({ key: "sign", digest, hash: "sha384", pin: pin.provider, allowLastTry: true });
    assertEquals(signature.length, 96);
    assertEquals((await card.pinStatus("PIN2")).triesLeft, 5);
  });
  await withCard({ profile: "v4", blocked: ["sign"] }, async (card) => {
    const pin = pinSource(PINS.PIN2);
    await assertRejects(() => card.sign({ key: "sign", digest, hash: "sha384", pin: pin.provider }), PinBlockedError);
    assertEquals(pin.asked.length, 0);
    assertEquals(await card.pinStatus("PIN2"), { name: "PIN2", reference: "82", triesLeft: 0, blocked: true });
  });
  for (const [profile, bad] of [["v4", "12345"], ["v4", "1234567890123"], ["org", "123456789"], ["v3", "12a456"]]) {
    await withCard({ profile: profile as Profile }, async (card) => {
      const pin = pinSource(bad);
      const before = card.apduCount;
      await assertRejects(
        () => card.sign({ key: "sign", digest: new Uint8Array(32), hash: "sha256", pin: pin.provider }),
        PinFormatError,
      );
      assert(pin.handed[0].every((b) => b === 0));
      assertEquals((await card.pinStatus("PIN2")).triesLeft, 5, `${profile} ${bad}`);
      assert(card.apduCount - before <= 3, "no VERIFY with data was sent");
    });
  }
});

Deno.test("a digest of the wrong length or an unsupported scheme is refused before the card is asked", async () => {
  await withCard({ profile: "org" }, async (card) => {
    const pin = pinSource(PINS.PIN2);
    await assertRejects(
      () => card.sign({ key: "sign", digest: new Uint8Array(32), hash: "sha256", scheme: "pss", pin: pin.provider }),
      NoMatchingKeyError,
    );
    await assertRejects(
      () => card.sign({ key: "sign", digest: new Uint8Array(20), hash: "sha256", pin: pin.provider }),
      UsageError,
    );
    assertEquals(pin.asked.length, 0);
    assertEquals(card.apduCount, 1); // the identification probe only
  });
});

Deno.test("a card pulled after any APDU of list-certs ends in CardRemovedError, for every position", async () => {
  for (const profile of PROFILES) {
    const total = await withCard({ profile }, async (card) => {
      const certificates = await card.certificates();
      for (const c of certificates) await card.pinStatus(c.pin);
      await card.serialNumber();
      return card.apduCount;
    });
    for (let n = 0; n < total; n++) {
      const error = await assertRejects(async () => {
        await withCard({ profile, failAfter: n }, async (card) => {
          const certificates = await card.certificates();
          for (const c of certificates) await card.pinStatus(c.pin);
          await card.serialNumber();
        });
      }, CardRemovedError);
      assertEquals((error as CardRemovedError).exitCode, 4);
      assertEquals((error as CardRemovedError).hint, "reinsert the card and retry");
    }
  }
});

Deno.test("the generic PKCS#15 reader (unknown ATRs) finds the same certificates, keys and PINs through EF.ODF", async () => {
  const { Pkcs15Card } = await import("../lib/card/pkcs15.ts");
  const { ApduChannel } = await import("../lib/apdu.ts");
  const { openVirtualTransport } = await import("../lib/virtual-card/mod.ts");
  for (const profile of PROFILES) {
    const card = new Pkcs15Card({
      channel: new ApduChannel(await openVirtualTransport({ profile })),
      model: "unknown",
    });
    try {
      assertEquals(card.family, "unknown");
      const certificates = await card.certificates();
      assertEquals(
        certificates.map((c) => [c.key, c.keyReference, c.pin]),
        [["auth", "01", "PIN1"], ["sign", profile === "v3" ? "03" : profile === "org" ? "82" : "02", "PIN2"]],
      );
      for (const c of certificates) assertEquals(toHex(c.der), toHex(fixture(profile, c.key)), `${profile} ${c.key}`);
      assert(certificates.every((c) => c.label && c.label.length > 0));
      assertEquals((await card.pinStatus("PIN2")).triesLeft, 5);
      assertEquals(await card.serialNumber(), { v3: "999000301", v4: "999000401", org: "999000901" }[profile]);
      if (profile !== "org") {
        // Citizen cards also sign through it: the ISO sequence with the key reference from the PrKDF.
        const data = new TextEncoder().encode("generic");
        const hash = profile === "v4" ? "sha384" : "sha256";
        const pin = pinSource(PINS.PIN2);
        const signature = await card.sign({ key: "sign", digest: await digestOf(hash, data), hash, pin: pin.provider });
        assert(await verifies(fixture(profile, "sign"), data, signature, hash, "ecdsa"));
      }
    } finally {
      await card.close();
    }
  }
});
