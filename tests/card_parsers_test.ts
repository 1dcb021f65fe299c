// The card layer's readers of card answers: FCP sizes, GET DATA PIN status, PKCS#15 directory files (as the virtual
// card encodes them with the ASN.1 library), and certificate descriptions compared with what openssl reads.

import { assert, assertEquals, assertThrows } from "./helpers/assert.ts";
import { fromHex, toHex } from "../lib/apdu.ts";
import { fcpFileSize } from "../lib/card/files.ts";
import { findTag, parseTlv } from "../lib/card/tlv.ts";
import {
  checkPinFormat,
  pinStatusFromGetData,
  pinStatusFromVerifyStatus,
  verifyApdu,
  verifyFailure,
} from "../lib/card/pins.ts";
import { parseAodf, parseCdf, parseOdf, parsePrkdf } from "../lib/card/pkcs15-objects.ts";
import { nameDirectory } from "../lib/card/pkcs15.ts";
import { describeCertificate } from "../lib/card/certificate-info.ts";
import { certificateFacts, defaultHashOf } from "../lib/card/cert-facts.ts";
import { algorithmByte, mseSetDstApdu, tokenInfoSerial } from "../lib/card/base.ts";
import { digestInfo } from "../lib/card/ias-ecc.ts";
import { PinBlockedError, PinFormatError, PinWrongError, UnexpectedCardAnswerError } from "../lib/errors.ts";
import { encodeAodf, encodeCdf, encodeOdf, encodePrkdf, encodeTokenInfo } from "../lib/virtual-card/pkcs15.ts";
import { ROOT } from "./helpers/run_kortti.ts";
import { openssl } from "./helpers/openssl.ts";

Deno.test("the FCP gives the file size from tag 80, or 81 without it", () => {
  assertEquals(fcpFileSize(fromHex("6204 8102 068A")), 0x068a);
  assertEquals(fcpFileSize(fromHex("620F 8002 04B0 8102 0500 8201 01 8302 4331")), 0x04b0);
  assertEquals(fcpFileSize(new Uint8Array()), undefined);
});

Deno.test("GET DATA PIN status: DF21 byte 0 is the tries left, 0 is blocked", () => {
  const answer = fromHex("A023 830111 8C04F0000000 9C04F0000000 DF210405FFA503 DF2702FFFF DF28010C DF2F0101");
  assertEquals(findTag(parseTlv(answer), 0xdf2f)?.value[0], 1);
  assertEquals(pinStatusFromGetData(answer), { triesLeft: 5, blocked: false });
  assertEquals(pinStatusFromGetData(fromHex("A007 830182 DF210100")), { triesLeft: 0, blocked: true });
  assertEquals(pinStatusFromVerifyStatus(0x63c3), { triesLeft: 3, blocked: false });
  assertEquals(pinStatusFromVerifyStatus(0x6983), { triesLeft: 0, blocked: true });
  assertEquals(pinStatusFromVerifyStatus(0x6a88), null);
});

Deno.test("VERIFY pads citizen PINs with 00 to 12 bytes and sends organisation PINs as they are", () => {
  const digits = new TextEncoder().encode("1234");
  const citizen = { name: "PIN1" as const, reference: 0x11, minLength: 4, maxLength: 12, paddedLength: 12 };
  assertEquals(toHex(verifyApdu(citizen, digits)), "002000110C31323334" + "00".repeat(8));
  const org = { name: "PIN1" as const, reference: 0x03, minLength: 4, maxLength: 8 };
  assertEquals(toHex(verifyApdu(org, digits)), "002000030431323334");
});

Deno.test("a PIN of the wrong length or with non-digits is refused before it reaches the card", () => {
  const pin2 = { name: "PIN2" as const, reference: 0x82, minLength: 6, maxLength: 12, paddedLength: 12 };
  assertThrows(() => checkPinFormat(pin2, new TextEncoder().encode("1234")), PinFormatError, /6 to 12/);
  assertThrows(() => checkPinFormat(pin2, new TextEncoder().encode("1234567890123")), PinFormatError);
  assertThrows(() => checkPinFormat(pin2, new TextEncoder().encode("12345a")), PinFormatError, /digits/);
  checkPinFormat(pin2, new TextEncoder().encode("123456"));
});

Deno.test("VERIFY status words map to typed PIN errors", () => {
  const pin = { name: "PIN2" as const, reference: 0x82, minLength: 6, maxLength: 12 };
  const wrong = verifyFailure(pin, 0x63c2);
  assert(wrong instanceof PinWrongError && wrong.triesLeft === 2);
  assert(verifyFailure(pin, 0x63c0) instanceof PinBlockedError);
  assert(verifyFailure(pin, 0x6983) instanceof PinBlockedError);
  assert(verifyFailure(pin, 0x6984) instanceof PinBlockedError);
  assert(verifyFailure(pin, 0x6700) instanceof PinFormatError);
  assert(verifyFailure(pin, 0x6a80) instanceof PinFormatError);
  assert(verifyFailure(pin, 0x6982) instanceof UnexpectedCardAnswerError);
});

Deno.test("signing APDUs: algorithm byte, MSE:SET DST and the DigestInfo of organisation cards", () => {
  assertEquals(algorithmByte("sha384", "ecdsa"), 0x54);
  assertEquals(algorithmByte("sha256", "pss"), 0x45);
  assertEquals(algorithmByte("sha256", "pkcs1"), 0x42);
  assertEquals(toHex(mseSetDstApdu(0x54, 0x02)), "002241B606800154840102");
  assertEquals(
    toHex(digestInfo("sha256", new Uint8Array(32)).subarray(0, 19)),
    "3031300D060960864801650304020105000420",
  );
});

Deno.test("PKCS#15 directory files as the virtual card encodes them name keys, certificates and PINs", () => {
  const odf = parseOdf(encodeOdf({
    privateKeys: ["3F00", "5015", "4402"],
    certificates: ["3F00", "5015", "4403"],
    authObjects: ["3F00", "5015", "4401"],
  }));
  assertEquals(odf, {
    privateKeys: ["3F00/5015/4402"],
    certificates: ["3F00/5015/4403"],
    authObjects: ["3F00/5015/4401"],
  });
  const keys = parsePrkdf(encodePrkdf([
    { label: "auth key", id: 1, authId: 1, reference: 1, usage: "auth", type: "ec", bits: 384, path: ["3F00"] },
    { label: "sign key", id: 2, authId: 2, reference: 2, usage: "sign", type: "ec", bits: 384, path: ["3F00", "5016"] },
  ]));
  assertEquals(keys.map((k) => [k.id, k.keyReference, k.authId, k.type]), [["01", 1, "01", "ec"], [
    "02",
    2,
    "02",
    "ec",
  ]]);
  assert(keys[1].usage.includes("nonRepudiation"));
  const certificates = parseCdf(encodeCdf([
    { label: "auth cert", id: 1, path: ["3F00", "4331"], length: 844 },
    { label: "sign cert", id: 2, path: ["3F00", "5016", "4332"], length: 871 },
  ]));
  assertEquals(certificates.map((c) => [c.id, c.path, c.label]), [
    ["01", "3F00/4331", "auth cert"],
    ["02", "3F00/5016/4332", "sign cert"],
  ]);
  const pins = parseAodf(encodeAodf([
    {
      label: "PIN1",
      authId: 1,
      reference: 0x11,
      minLength: 4,
      maxLength: 12,
      paddedLength: 12,
      unblocking: false,
      path: ["3F00"],
    },
    {
      label: "PIN2",
      authId: 2,
      reference: 0x82,
      minLength: 6,
      maxLength: 12,
      paddedLength: 12,
      unblocking: false,
      path: ["3F00"],
    },
    {
      label: "PUK",
      authId: 3,
      reference: 0x83,
      minLength: 8,
      maxLength: 12,
      paddedLength: 12,
      unblocking: true,
      path: ["3F00"],
    },
  ]));
  assertEquals(pins.map((p) => [p.reference, p.minLength, p.maxLength, p.needsPadding, p.unblocking]), [
    [0x11, 4, 12, true, false],
    [0x82, 6, 12, true, false],
    [0x83, 8, 12, true, true],
  ]);
  const directory = nameDirectory(keys, certificates, pins);
  assertEquals(directory.keys.map((k) => [k.key, k.keyReference, k.pin, k.certificatePath]), [
    ["auth", 1, "PIN1", "3F00/4331"],
    ["sign", 2, "PIN2", "3F00/5016/4332"],
  ]);
  assertEquals(directory.pins.map((p) => [p.name, p.reference, p.paddedLength]), [
    ["PIN1", 0x11, 12],
    ["PIN2", 0x82, 12],
    ["PUK", 0x83, 12],
  ]);
  assertEquals(
    tokenInfoSerial(encodeTokenInfo({ serialNumber: "999000401", manufacturer: "m", label: "l" })),
    "999000401",
  );
});

/** What `openssl x509 -in FILE -noout OPTIONS` prints on standard output (warnings on standard error left out). */
async function x509Print(file: string, ...options: string[]): Promise<string> {
  return (await openssl(["x509", "-in", file, "-noout", ...options])).stdout;
}

function derOf(pem: string): Uint8Array {
  const body = pem.replace(/-----[^-]+-----/g, "").replace(/\s/g, "");
  return Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
}

Deno.test("certificate descriptions agree with openssl on every fixture certificate", async () => {
  for (const name of ["v3-auth", "v3-sign", "v4-auth", "v4-sign", "org-auth", "org-sign", "expired"]) {
    const file = `${ROOT}/fixtures/pki/${name}.pem`;
    const der = derOf(await Deno.readTextFile(file));
    const info = await describeCertificate(
      { key: "sign", keyReference: "02", pin: "PIN2", pinReference: "82", der, path: "3F00/5016/4332" },
      { name: "PIN2", reference: "82", triesLeft: 5, blocked: false },
      new Date("2030-01-01T00:00:00Z"),
    );
    const fingerprint = (await x509Print(file, "-fingerprint", "-sha256"))
      .split("=")[1].replace(/[:\s]/g, "").toLowerCase();
    assertEquals(info.sha256, fingerprint, name);
    const serial = (await x509Print(file, "-serial")).split("=")[1].trim().toLowerCase();
    assertEquals(info.serialNumber, serial.replace(/^0+/, ""), name);
    const dates = await x509Print(file, "-startdate", "-enddate", "-dateopt", "iso_8601");
    const [start, end] = dates.trim().split("\n").map((l) => l.split("=")[1].replace(" ", "T").replace("Z", ".000Z"));
    assertEquals([info.notBefore, info.notAfter], [start, end], name);
    const text = await x509Print(file, "-text");
    const expectedAlgorithm = text.includes("NIST CURVE: P-384")
      ? "EC P-384"
      : text.includes("NIST CURVE: P-256")
      ? "EC P-256"
      : "RSA 2048";
    assertEquals(info.keyAlgorithm, expectedAlgorithm, name);
    assertEquals(info.keyUsage.includes("nonRepudiation"), text.includes("Non Repudiation"), name);
    assertEquals(info.keyUsage.includes("digitalSignature"), text.includes("Digital Signature"), name);
    const subjectCn = (await x509Print(file, "-subject", "-nameopt", "utf8,sep_comma_plus"))
      .match(/CN=([^,\n]+)/)?.[1];
    assertEquals(info.summary.subjectCommonName, subjectCn, name);
    assert(info.subject.startsWith("C=FI, "), info.subject);
    assertEquals(info.summary.validity, name === "expired" ? "expired" : "valid", name);
    assertEquals(defaultHashOf(der), expectedAlgorithm === "EC P-384" ? "sha384" : "sha256");
    assertEquals(certificateFacts(der).subjectCommonName, subjectCn);
  }
});
