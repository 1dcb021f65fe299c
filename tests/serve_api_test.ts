/**
 * `kortti serve` end to end over HTTPS, as browsers' pages and real SCS clients call it: /version, every signature
 * type verified with openssl, the real client request shapes of docs/scs-api.md, the selector, PIN dialog outcomes,
 * origin binding of authentication-key data, malformed input, the access log, and a clean stop.
 */

import { assert, assertEquals, assertMatch, assertNotMatch } from "./helpers/assert.ts";
import { b64, rawToDer, run, startServe, unb64, verifyCms, verifyRaw } from "./helpers/serve.ts";
import { ROOT } from "./helpers/run_kortti.ts";
import { createHash } from "node:crypto";

const ORIGIN = "https://app.example.test";
const PKI = `${ROOT}/fixtures/pki`;

function boundContent(origin: string, rest = "x".repeat(80)): string {
  return b64(`${origin}\n${rest}`);
}

Deno.test("serve on the v4 virtual card: API, signatures, selector, PIN dialog, policy, log", async (t) => {
  const serve = await startServe({ origins: [ORIGIN] });
  const data = crypto.getRandomValues(new Uint8Array(3000));
  try {
    await t.step("/version answers the doc's fields with CORS for the allowed origin", async () => {
      const r = await serve.request("/version");
      assertEquals(r.status, 200);
      assertEquals(r.json.version, "1.3");
      assertEquals(r.json.selectorAvailable, true);
      assertEquals(r.json.signatureTypes, "signature, cms, cms-pades");
      assertEquals(r.json.signatureAlgorithms, "RSA, ECDSA");
      assertEquals(r.headers.get("access-control-allow-origin"), ORIGIN);
      assertEquals(r.headers.get("vary"), "Origin");
      assertMatch(r.headers.get("content-type") ?? "", /^application\/json/);
      // docs/scs-api.md: every answer carries the allowed methods and headers.
      assertEquals(r.headers.get("access-control-allow-methods"), "GET, POST");
      assertEquals(r.headers.get("access-control-allow-headers"), "Accept, Content-Type");
    });

    await t.step("cms with the signature key verifies with openssl; chain is leaf first", async () => {
      const r = await serve.request("/sign", {
        body: {
          version: "1.1",
          selector: { keyusages: ["nonrepudiation"] },
          content: b64(data),
          contentType: "data",
          hashAlgorithm: "SHA384",
          signatureType: "cms",
        },
      });
      assertEquals(r.json.status, "ok", JSON.stringify(r.json));
      assertEquals(r.json.reasonCode, 200);
      assertEquals(r.json.signatureType, "cms");
      assertEquals(r.json.signatureAlgorithm, "SHA384withECDSA");
      const leaf = (await Deno.readTextFile(`${PKI}/v4-sign.pem`)).replace(/-----[^-]+-----|\s/g, "");
      assertEquals(r.json.chain[0], leaf);
      assertEquals(r.json.chain.length, 3);
      await verifyCms(serve.dir, r.json.signature, data);
    });

    await t.step("raw signature: 96-byte r||s that openssl verifies", async () => {
      const r = await serve.request("/sign", {
        body: {
          version: "1.3",
          selector: { keyusages: ["nonrepudiation"] },
          content: b64(data),
          contentType: "data",
          hashAlgorithm: "SHA384",
          signatureType: "signature",
        },
      });
      assertEquals(r.json.status, "ok", JSON.stringify(r.json));
      const sig = unb64(r.json.signature);
      assertEquals(sig.length, 96);
      await verifyRaw(serve.dir, rawToDer(sig), r.json.chain[0], "sha384", data);
    });

    await t.step("cms-pades over a PDF digest (as digest and as 'data') verifies against the bytes", async () => {
      for (const contentType of ["digest", "data"]) {
        const digest = createHash("sha256").update(data).digest();
        const r = await serve.request("/sign", {
          body: {
            version: "1.1",
            selector: { keyusages: ["nonrepudiation"], keyalgorithms: ["ec"] },
            contentType,
            hashAlgorithm: "SHA256",
            signatureType: "cms-pades",
            content: b64(new Uint8Array(digest)),
          },
        });
        assertEquals(r.json.status, "ok", JSON.stringify(r.json));
        await verifyCms(serve.dir, r.json.signature, data);
      }
    });

    await t.step("GET /sign with query parameters", async () => {
      const digest = new Uint8Array(createHash("sha512").update(data).digest());
      const q = new URLSearchParams({
        version: "1.1",
        content: b64(digest),
        contentType: "digest",
        hashAlgorithm: "SHA512",
        signatureType: "signature",
        keyusages: "nonrepudiation",
      });
      const r = await serve.request(`/sign?${q}`);
      assertEquals(r.json.status, "ok", JSON.stringify(r.json));
      assertEquals(r.json.signatureAlgorithm, "SHA512withECDSA");
      await verifyRaw(serve.dir, rawToDer(unb64(r.json.signature)), r.json.chain[0], "sha512", data);
    });

    await t.step("the PIN dialog named origin, holder, key and hash", async () => {
      const log = await serve.pinentryLog();
      assertMatch(log, /SETDESC .*app\.example\.test/);
      assertMatch(log, /MEIK.*MATTI/);
      assertMatch(log, /qualified signature key/);
      assertMatch(log, /SHA-384 being signed/);
      assertMatch(log, /GETPIN/);
      assertNotMatch(log, /123456/); // the PIN is the dialog's answer, never in what kortti told it
    });

    await t.step("the doc's real client request shapes", async () => {
      await serve.setPin("123456");
      const pades = await serve.request("/sign", {
        body: {
          version: "1.3",
          selector: { keyusages: ["nonrepudiation"], keyalgorithms: ["rsa"] },
          contentType: "data",
          hashAlgorithm: "SHA256",
          signatureType: "cms-pades",
          content: b64(new Uint8Array(32)),
        },
      });
      // The v4 card's keys are EC: an RSA selector matches nothing, and says so.
      assertEquals(pades.json.reasonCode, 404, JSON.stringify(pades.json));
      await serve.setPin("1234");
      const login = await serve.request("/sign", {
        body: {
          selector: { keyusages: ["digitalsignature"] },
          content: b64(`${ORIGIN}\n${"a1".repeat(32)}\n${Date.now()}\nlogin data`),
          contentType: "data",
          hashAlgorithm: "SHA256",
          signatureType: "signature",
          version: "1.1",
        },
      });
      assertEquals(login.json.status, "ok", JSON.stringify(login.json));
      assertEquals(login.json.signatureAlgorithm, "SHA256withECDSA");
      const empty = await serve.request("/sign", {
        body: {
          selector: {},
          content: boundContent(ORIGIN),
          contentType: "data",
          hashAlgorithm: "SHA256",
          signatureType: "signature",
          version: "1.1",
        },
      });
      assertEquals(empty.json.status, "ok", JSON.stringify(empty.json));
      await verifyRaw(
        serve.dir,
        rawToDer(unb64(empty.json.signature)),
        empty.json.chain[0],
        "sha256",
        unb64(boundContent(ORIGIN)),
      );
      const issuer = await serve.request("/sign", {
        body: {
          version: "1.1",
          content: boundContent(ORIGIN),
          contentType: "data",
          hashAlgorithm: "SHA512",
          signatureType: "signature",
          signatureAlgorithm: "rsa",
          selector: {
            keyalgorithms: ["RSA"],
            issuers: [
              "CN=DVV Citizen Certificates - G4R, OU=Valtion kansalaisvarmenteet, O=Digi- ja vaestotietovirasto CA, C=FI",
            ],
          },
        },
      });
      assertEquals(issuer.json.status, "failed");
      assertEquals(issuer.json.reasonCode, 404);
    });

    await t.step("authentication key over data not bound to the origin: 403, card untouched", async () => {
      const before = (await serve.pinentryLog()).length;
      for (
        const content of [
          b64("not bound to any origin at all, but long enough to pass a length check ............"),
          b64(`https://evil.example\n${"x".repeat(80)}`),
          b64(`${ORIGIN}\nshort`),
          b64(`${ORIGIN}.evil.example\n${"x".repeat(80)}`),
        ]
      ) {
        const r = await serve.request("/sign", {
          body: { version: "1.1", content, contentType: "data", hashAlgorithm: "SHA256", signatureType: "cms" },
        });
        assertEquals(r.json.reasonCode, 403, JSON.stringify(r.json));
        assert(!("signature" in r.json));
      }
      assertEquals((await serve.pinentryLog()).length, before, "no PIN dialog for refused requests");
    });

    await t.step("selector: issuer and AKI of the card match; others answer 404", async () => {
      await serve.setPin("123456");
      const ca = await run("openssl", [
        "x509",
        "-in",
        `${PKI}/citizen-ca.pem`,
        "-noout",
        "-ext",
        "subjectKeyIdentifier",
      ]);
      const ski = ca.stdout.split("\n")[1].trim().replace(/:/g, "");
      const aki = b64(Uint8Array.from(ski.match(/../g)!.map((h) => parseInt(h, 16))));
      const ok = await serve.request("/sign", {
        body: {
          version: "1.1",
          selector: {
            keyusages: ["NonRepudiation"],
            issuers: ["CN=DVV TEST Citizen Certificates - G5E, O=Digi- ja väestötietovirasto TEST, C=FI"],
            akis: [aki],
            keyalgorithms: ["ecdsa"],
            strictKeypolicy: true,
          },
          content: b64(data),
          contentType: "data",
          hashAlgorithm: "SHA256",
          signatureType: "cms",
        },
      });
      assertEquals(ok.json.status, "ok", JSON.stringify(ok.json));
      for (
        const selector of [
          { keyusages: ["nonrepudiation"], issuers: ["CN=Other CA, C=FI"] },
          { keyusages: ["nonrepudiation"], akis: [b64(new Uint8Array(20))] },
          { keyusages: ["nonrepudiation", "digitalsignature"], strictKeypolicy: true },
        ]
      ) {
        const r = await serve.request("/sign", {
          body: {
            version: "1.1",
            selector,
            content: b64(data),
            contentType: "data",
            hashAlgorithm: "SHA256",
            signatureType: "cms",
          },
        });
        assertEquals(r.json.reasonCode, 404, JSON.stringify({ selector, answer: r.json }));
      }
    });

    await t.step("wrong PIN: 401 with tries left, not retried; then the right PIN works; cancel: 401", async () => {
      const request = {
        version: "1.1",
        selector: { keyusages: ["nonrepudiation"] },
        content: b64(data),
        contentType: "data",
        hashAlgorithm: "SHA256",
        signatureType: "cms",
      };
      const getpins = () => serve.pinentryLog().then((l) => l.split("\n").filter((x) => x === "GETPIN").length);
      const asked = await getpins();
      await serve.setPin("999999");
      const wrong = await serve.request("/sign", { body: request });
      assertEquals(wrong.json.reasonCode, 401);
      assertMatch(wrong.json.reasonText, /wrong PIN2, \d tries left/);
      assertEquals(await getpins(), asked + 1, "asked exactly once");
      await serve.setPin("CANCEL");
      const cancelled = await serve.request("/sign", { body: request });
      assertEquals(cancelled.json.reasonCode, 401);
      assertMatch(cancelled.json.reasonText, /cancel/);
      await serve.setPin("123456");
      const ok = await serve.request("/sign", { body: request });
      assertEquals(ok.json.status, "ok");
    });

    await t.step("malformed requests: 400 naming the problem; unsupported: 501", async () => {
      const base = {
        version: "1.1",
        selector: { keyusages: ["nonrepudiation"] },
        content: b64(data),
        contentType: "data",
        hashAlgorithm: "SHA256",
        signatureType: "cms",
      };
      const cases: [unknown, number, RegExp][] = [
        ['{"version":"1.1", "content": ', 400, /not valid JSON/],
        ["[1,2]", 400, /JSON object/],
        [{ ...base, content: "@@@" }, 400, /content.*base64/],
        [{ ...base, content: 42 }, 400, /'content' must be a string/],
        [{ ...base, extra: true }, 400, /unknown field 'extra'/],
        [{ ...base, selector: { keyusages: "nonrepudiation" } }, 400, /list of strings/],
        [{ ...base, selector: { colour: ["red"] } }, 400, /unknown selector field/],
        [{ ...base, contentType: "file" }, 400, /contentType/],
        [{ ...base, contentType: "digest" }, 400, /digest is 32 bytes/],
        [{ ...base, hashAlgorithm: "SHA1" }, 501, /not supported/],
        [{ ...base, signatureType: "xades" }, 501, /not supported/],
        [{ ...base, content: undefined }, 400, /'content' is missing/],
      ];
      for (const [body, code, text] of cases) {
        const r = await serve.request("/sign", { body });
        assertEquals(r.json.reasonCode, code, JSON.stringify({ body, answer: r.json }));
        assertEquals(r.json.status, "failed");
        assertMatch(r.json.reasonText, text);
      }
      const jwt = await serve.request("/sign", { body: "eyJ.x.y", headers: { "Content-Type": "application/jwt" } });
      assertEquals(jwt.json.reasonCode, 501);
      const big = await serve.request("/sign", { body: "A".repeat(3_000_000) });
      assertEquals(big.status, 413);
      assertEquals(big.json.reasonCode, 413);
      const missing = await serve.request("/nothing");
      assertEquals(missing.status, 404);
    });

    await t.step("policy: other origins, no origin, foreign Host, preflights", async () => {
      const evil = await serve.request("/sign", { origin: "https://evil.example", body: { version: "1.1" } });
      assertEquals(evil.json.reasonCode, 403);
      assertEquals(evil.headers.get("access-control-allow-origin"), null);
      const none = await serve.request("/version", { origin: null });
      assertEquals(none.json.reasonCode, 403);
      for (const origin of ["null", "garbage", "https://app.example.test/path", "HTTPS://APP.EXAMPLE.TEST:443"]) {
        const odd = await serve.request("/version", { origin });
        const expected = origin.startsWith("HTTPS") ? 200 : 403; // the same origin, spelled differently
        assertEquals(odd.json.reasonCode ?? (odd.json.version === "1.3" ? 200 : 0), expected, origin);
      }
      const pre = await serve.request("/sign", {
        method: "OPTIONS",
        headers: { "Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true" },
      });
      assertEquals(pre.status, 204);
      assertEquals(pre.headers.get("access-control-allow-origin"), ORIGIN);
      assertEquals(pre.headers.get("access-control-allow-private-network"), "true");
      assertEquals(pre.headers.get("access-control-allow-methods"), "GET, POST");
      assertEquals(pre.headers.get("access-control-allow-headers"), "Accept, Content-Type");
      assertEquals(pre.headers.get("vary"), "Origin");
      const badPre = await serve.request("/sign", {
        method: "OPTIONS",
        origin: "https://evil.example",
        headers: { "Access-Control-Request-Method": "POST" },
      });
      assertEquals(badPre.status, 403);
      assertEquals(badPre.headers.get("access-control-allow-origin"), null);
      for (const host of ["rebind.example:53960", "localhost:1234", "127.0.0.1", "localhost.evil:53960"]) {
        const out = await run("curl", [
          "-sk",
          "--http1.1",
          `${serve.url}/version`,
          "-H",
          `Origin: ${ORIGIN}`,
          "-H",
          `Host: ${host}`,
        ]);
        const answer = JSON.parse(out.stdout);
        assertEquals(answer.reasonCode, 403, host);
        assert(!("httpMethods" in answer));
      }
      for (const host of ["localhost:53960", "[::1]:53960", "erasmartcard.ehoito.fi:53960"]) {
        const out = await run("curl", [
          "-sk",
          "--http1.1",
          `${serve.url}/version`,
          "-H",
          `Origin: ${ORIGIN}`,
          "-H",
          `Host: ${host}`,
        ]);
        assertEquals(JSON.parse(out.stdout).version, "1.3", host);
      }
    });

    await t.step("SIGTERM stops cleanly; the log has a line per request and no PIN or content", async () => {
      const code = await serve.stop();
      assertEquals(code, 0);
      const log = serve.stderr();
      assertMatch(log, /listening on https:\/\/127\.0\.0\.1:53960/);
      assertMatch(log, /CA: .*ca\.pem \(SHA-256 /);
      assertMatch(log, /browsers do not trust this CA yet/);
      assertMatch(log, /origin=https:\/\/app\.example\.test POST \/sign reasonCode=200 [\d.]+ms/);
      assertMatch(log, /origin=https:\/\/evil\.example POST \/sign reasonCode=403/);
      assertMatch(log, /SIGTERM: stopping/);
      assertNotMatch(log, /123456|1234\b|999999/);
      assertNotMatch(log, new RegExp(b64(data).slice(0, 40).replace(/[+/]/g, "\\$&")));
      const files = [...Deno.readDirSync(`${serve.dataDir}/tls`)].map((e) => e.name).sort();
      assertEquals(files, ["ca-key.pem", "ca.pem", "server-key.pem", "server.pem"]);
    });
  } finally {
    await serve.stop().catch(() => {});
    await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("serve on the v3 card: RSA-PSS authentication and the doc's issuer-selector shape", async () => {
  const origin = "http://127.0.0.1:8123";
  const serve = await startServe({ profile: "v3", origins: [origin], port: 53961, pin: "1234" });
  try {
    const content = boundContent(origin);
    const r = await serve.request("/sign", {
      body: {
        version: "1.1",
        content,
        contentType: "data",
        hashAlgorithm: "SHA256",
        signatureType: "signature",
        signatureAlgorithm: "rsa",
        selector: {
          keyalgorithms: ["RSA"],
          issuers: ["CN=DVV TEST Citizen Certificates - G5E, O=Digi- ja vaestotietovirasto TEST, C=FI"],
        },
      },
    });
    assertEquals(r.json.status, "ok", JSON.stringify(r.json));
    assertEquals(r.json.signatureAlgorithm, "SHA256withRSAandMGF1");
    await verifyRaw(serve.dir, unb64(r.json.signature), r.json.chain[0], "sha256", unb64(content), true);
  } finally {
    await serve.stop();
    await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a taken port: exit 8 naming the likely owner; --allow-no-origin serves requests without Origin", async () => {
  const serve = await startServe({ port: 53962, args: ["--allow-no-origin"] });
  try {
    const none = await serve.request("/version", { origin: null });
    assertEquals(none.json.version, "1.3");
    const second = new Deno.Command(`${ROOT}/kortti`, {
      args: ["serve", "--virtual-card", "--scs-port", "53962", "--no-era", "--data-dir", serve.dataDir],
      env: { HOME: serve.dir },
      stdout: "piped",
      stderr: "piped",
    });
    const out = await second.output();
    assertEquals(out.code, 8);
    assertMatch(new TextDecoder().decode(out.stderr), /port 53962 .*taken/);
  } finally {
    await serve.stop();
    await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("a second SIGTERM stops at once even while a PIN dialog is open", async () => {
  const serve = await startServe({ port: 53967, onGetPin: "time.sleep(30)" });
  try {
    const pending = serve.request("/sign", {
      body: {
        version: "1.1",
        selector: { keyusages: ["nonrepudiation"] },
        content: b64("waiting"),
        contentType: "data",
        hashAlgorithm: "SHA256",
        signatureType: "cms",
      },
    }).catch(() => undefined);
    for (let i = 0; i < 100 && !(await serve.pinentryLog()).includes("GETPIN"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    serve.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const started = performance.now();
    const code = await serve.stop("SIGTERM");
    assertEquals(code, 130);
    assert(performance.now() - started < 3000);
    assertMatch(serve.stderr(), /stopping \(again to stop at once\)/);
    await pending;
  } finally {
    await serve.stop().catch(() => {});
    await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
  }
});
