/**
 * Web eID tokens (lib/webeid.ts) on the in-process virtual cards, checked with WebCrypto over data rebuilt here,
 * and the challenge rules; and the XML form of the erasmartcard answers (lib/serve/era-xml.ts).
 * @module
 */

import { openCard } from "../lib/open.ts";
import { algorithmsFor, checkChallenge, createWebEidToken, signedData } from "../lib/webeid.ts";
import { toXml, wantsXml } from "../lib/serve/era-xml.ts";
import { UsageError } from "../lib/errors.ts";
import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";

const ORIGIN = "https://rp.example.test";
const pin1 = () => Promise.resolve(new TextEncoder().encode("1234"));

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

async function sha(name: string, text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest(name, new TextEncoder().encode(text)));
}

Deno.test("v4 token: ES384 over SHA-384(origin) ‖ SHA-384(challenge), checked with WebCrypto", async () => {
  const card = await openCard({ virtualCard: "v4" });
  try {
    const challenge = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
    const token = await createWebEidToken({ card, origin: ORIGIN, challenge, pin: pin1 });
    assertEquals(token.algorithm, "ES384");
    const data = Uint8Array.of(...await sha("SHA-384", ORIGIN), ...await sha("SHA-384", challenge));
    assertEquals(signedData(ORIGIN, challenge, "sha384"), data);
    const spki = await spkiOf(bytesOf(token.unverifiedCertificate));
    const key = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-384" }, false, ["verify"]);
    const ok = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-384" }, key, bytesOf(token.signature), data);
    assert(ok, "the ES384 signature verifies");
  } finally {
    await card.close();
  }
});

Deno.test("v3 token: PS256 (salt 32) checked with WebCrypto; the PIN is asked once, for PIN1", async () => {
  const card = await openCard({ virtualCard: "v3" });
  try {
    const asked: string[] = [];
    const challenge = btoa("c".repeat(40));
    const token = await createWebEidToken({
      card,
      origin: ORIGIN,
      challenge,
      pin: (request, signing) => {
        asked.push(`${request.pin}/${signing.algorithm}/${signing.digest.length}`);
        return pin1();
      },
    });
    assertEquals(token.algorithm, "PS256");
    assertEquals(asked, ["PIN1/PS256/32"]);
    const data = Uint8Array.of(...await sha("SHA-256", ORIGIN), ...await sha("SHA-256", challenge));
    const spki = await spkiOf(bytesOf(token.unverifiedCertificate));
    const key = await crypto.subtle.importKey("spki", spki, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
    assert(await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, key, bytesOf(token.signature), data));
  } finally {
    await card.close();
  }
});

Deno.test("organisation card (RSA without PSS): RS256, PS256 refused before any PIN is asked", async () => {
  const card = await openCard({ virtualCard: "org" });
  try {
    let asked = 0;
    const challenge = btoa("o".repeat(33));
    const token = await createWebEidToken({
      card,
      origin: ORIGIN,
      challenge,
      pin: () => {
        asked++;
        return pin1();
      },
    });
    assertEquals([token.algorithm, asked], ["RS256", 1]);
    const data = Uint8Array.of(...await sha("SHA-256", ORIGIN), ...await sha("SHA-256", challenge));
    const spki = await spkiOf(bytesOf(token.unverifiedCertificate));
    const key = await crypto.subtle.importKey("spki", spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, [
      "verify",
    ]);
    assert(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, bytesOf(token.signature), data));
  } finally {
    await card.close();
  }
});

Deno.test("algorithm by key: EC curve gives ES256/ES384/ES512, RSA gives PS256 then RS256", async () => {
  const v3 = await openCard({ virtualCard: "v3" });
  const v4 = await openCard({ virtualCard: "v4" });
  try {
    const [v3auth] = await v3.certificates(["auth"]);
    const [v4auth] = await v4.certificates(["auth"]);
    assertEquals(algorithmsFor(v3auth.der).map((a) => a.name), ["PS256", "RS256"]);
    assertEquals(algorithmsFor(v4auth.der).map((a) => a.name), ["ES384"]);
  } finally {
    await v3.close();
    await v4.close();
  }
});

Deno.test("challenges: base64 of at least 32 bytes, standard or URL-safe, bounded", () => {
  const good = btoa("n".repeat(32));
  assertEquals(checkChallenge(good), good);
  assertEquals(checkChallenge(good.replace(/=+$/, "")), good.replace(/=+$/, ""));
  assertEquals(checkChallenge("-_" + "A".repeat(42)), "-_" + "A".repeat(42));
  for (
    const bad of [btoa("n".repeat(31)), "", 7, null, "has spaces " + "A".repeat(44), "A".repeat(1025), "A".repeat(45)]
  ) {
    assertThrows(() => checkChallenge(bad), UsageError);
  }
});

Deno.test("XML answers: members as elements, lists named after their items, text escaped", () => {
  assertEquals(
    toXml({ status: "ok", n: 2, yes: true, none: null, certificates: [{ keyUsage: ["a"] }], other: ["x"] }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<result><status>ok</status><n>2</n><yes>true</yes><none/>' +
      "<certificates><certificate><keyUsage><usage>a</usage></keyUsage></certificate></certificates>" +
      "<other><item>x</item></other></result>",
  );
  assertEquals(
    toXml({ reasonText: `</reasonText><x a="1">&'\u0001` }),
    '<?xml version="1.0" encoding="UTF-8"?>\n<result><reasonText>&lt;/reasonText&gt;&lt;x a=&quot;1&quot;&gt;' +
      "&amp;&apos;\uFFFD</reasonText></result>",
  );
  assertEquals(toXml({ "a b<": 1 }).includes("<a_b_>1</a_b_>"), true);
});

Deno.test("XML is chosen by ?type or by Accept ranking, JSON otherwise", () => {
  const ask = (path: string, accept?: string) =>
    wantsXml(new Request(`https://localhost:44304${path}`, accept ? { headers: { Accept: accept } } : {}));
  assertEquals(ask("/status?type=xml"), true);
  assertEquals(ask("/status?type=json", "application/xml"), false);
  assertEquals(ask("/status", "application/xml"), true);
  assertEquals(ask("/status", "text/xml"), true);
  assertEquals(ask("/status"), false);
  assertEquals(ask("/status", "*/*"), false);
  assertEquals(ask("/status", "application/json, application/xml;q=0.5"), false);
  assertEquals(ask("/status", "application/json;q=0.1, application/xml"), true);
  assertEquals(ask("/status", "application/xml;q=0"), false);
});

/** The SubjectPublicKeyInfo (DER) of a DER certificate, extracted by openssl. */
async function spkiOf(der: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> {
  const child = new Deno.Command("openssl", {
    args: ["x509", "-inform", "DER", "-pubkey", "-noout"],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(der);
  await writer.close();
  const pem = new TextDecoder().decode((await child.output()).stdout);
  return bytesOf(pem.replace(/-----[A-Z ]+-----|\s/g, "")).buffer;
}
