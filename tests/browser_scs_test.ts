/**
 * A real headless Chromium (Debian's, driven by playwright-core) with kortti's local CA trusted in a temporary NSS
 * database (installed by `kortti serve --install-ca`, no certificate-error flags), on a page from an allowed
 * loopback origin, uses the SCS toolkit as a plain ES module (bundled from lib/scs/mod.ts) to call /version and
 * /sign for each signature type against `kortti serve --virtual-card`; openssl verifies what comes back. The same
 * page from another origin is refused.
 */

import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { b64, rawToDer, run, startServe, unb64, verifyCms, verifyRaw } from "./helpers/serve.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";

const CHROMIUM = "/usr/bin/chromium";
const PAGE = `<!doctype html><meta charset="utf-8"><title>kortti SCS test page</title><p>SCS test page</p>`;

function haveChromium(): boolean {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    return false;
  }
}

async function bundleToolkit(dir: string): Promise<string> {
  const out = `${dir}/scs.js`;
  const bundled = await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--config",
    `${ROOT}/deno.json`,
    `${ROOT}/lib/scs/mod.ts`,
    "-o",
    out,
  ]);
  assertEquals(bundled.code, 0, `deno bundle: ${bundled.stderr}`);
  return await Deno.readTextFile(out);
}

function servePage(port: number, script: string): Deno.HttpServer {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/scs.js") return new Response(script, { headers: { "content-type": "text/javascript" } });
    return new Response(PAGE, { headers: { "content-type": "text/html" } });
  });
}

Deno.test({
  name: "Chromium with the CA in NSS signs every type through the toolkit from an allowed origin; others are refused",
  ignore: !haveChromium(),
  async fn() {
    const okPort = 8731, badPort = 8732;
    const allowed = `http://127.0.0.1:${okPort}`;
    const serve = await startServe({ origins: [allowed], port: 53968 });
    const browserHome = `${serve.dir}/browser-home`;
    await Deno.mkdir(browserHome);
    const script = await bundleToolkit(serve.dir);
    const pages = [servePage(okPort, script), servePage(badPort, script)];
    const { chromium } = await import("playwright-core");
    const launch = (home: string, profile: string) =>
      chromium.launchPersistentContext(`${serve.dir}/${profile}`, {
        executablePath: CHROMIUM,
        headless: true,
        env: { ...Deno.env.toObject(), HOME: home },
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
        ],
      });
    // Control: without the CA in its NSS database, Chromium refuses the service's certificate.
    const untrusting = await launch(browserHome, "profile-before");
    try {
      const page = await untrusting.newPage();
      await page.goto(`${allowed}/`);
      const outcome = await page.evaluate(() =>
        fetch("https://localhost:53968/version").then(() => "answered", (e) => `failed: ${e}`)
      );
      assertMatch(outcome, /^failed/);
    } finally {
      await untrusting.close();
    }
    const install = await runKortti(["serve", "--install-ca", "--data-dir", serve.dataDir], {
      env: { HOME: browserHome },
    });
    assertEquals(install.code, 0, install.stderr);
    assertMatch(install.stdout, /Chromium\/Chrome .*created-and-added/);
    const context = await launch(browserHome, "profile");
    try {
      const page = await context.newPage();
      await page.goto(`${allowed}/`);
      const content = crypto.getRandomValues(new Uint8Array(1500));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", content));
      const login = `${allowed}\n${"c0ffee".repeat(12)}\n${Date.now()}`;
      const results = await page.evaluate(async ({ base, content, digest, login }) => {
        const scs = await import("/scs.js");
        const client = new scs.ScsClient({ baseUrl: base });
        const version = await client.version();
        const sign = (request: Record<string, unknown>, method = "POST") =>
          client.sign({ version: version.version, ...request }, method);
        return {
          version,
          viaIp: await new scs.ScsClient({ baseUrl: "https://127.0.0.1:53968" }).version(),
          cms: await sign({
            selector: { keyusages: ["nonrepudiation"] },
            content,
            contentType: "data",
            hashAlgorithm: "SHA384",
            signatureType: "cms",
          }),
          pades: await sign({
            selector: { keyusages: ["nonrepudiation"], keyalgorithms: ["ec"] },
            content: digest,
            contentType: "data",
            hashAlgorithm: "SHA256",
            signatureType: "cms-pades",
          }),
          raw: await sign({
            selector: { keyusages: ["nonrepudiation"] },
            content,
            contentType: "data",
            hashAlgorithm: "SHA256",
            signatureType: "signature",
          }, "GET"),
          auth: await sign({
            selector: { keyusages: ["digitalsignature"] },
            content: btoa(login),
            contentType: "data",
            hashAlgorithm: "SHA384",
            signatureType: "signature",
          }),
        };
      }, { base: "https://localhost:53968", content: b64(content), digest: b64(digest), login });
      assertEquals(results.version.version, "1.3");
      assertEquals(results.viaIp.signatureTypes, "signature, cms, cms-pades");
      for (const name of ["cms", "pades", "raw"] as const) {
        assertEquals(results[name].status, "ok", `${name}: ${JSON.stringify(results[name])}`);
      }
      await verifyCms(serve.dir, results.cms.signature!, content);
      await verifyCms(serve.dir, results.pades.signature!, content);
      await verifyRaw(serve.dir, rawToDer(unb64(results.raw.signature!)), results.raw.chain![0], "sha256", content);
      // The auth key needs PIN1: the dialog answered PIN2, so the card refused it, and the answer says so.
      assertEquals(results.auth.reasonCode, 401);
      assertMatch(results.auth.reasonText, /wrong PIN1/);

      const other = await context.newPage();
      await other.goto(`http://127.0.0.1:${badPort}/`);
      const refused = await other.evaluate(async () => {
        const scs = await import("/scs.js");
        try {
          await new scs.ScsClient({ baseUrl: "https://localhost:53968" }).version();
          return "answered";
        } catch (e) {
          return `refused: ${(e as Error).message}`;
        }
      });
      assertMatch(refused, /^refused: /);
      await new Promise((r) => setTimeout(r, 200)); // the access log is written in batches every 20 ms
      const log = serve.stderr();
      assertMatch(log, new RegExp(`origin=http://127\\.0\\.0\\.1:${badPort} GET /version reasonCode=403`));
      assert(!new RegExp(`origin=http://127\\.0\\.0\\.1:${badPort} POST /sign reasonCode=200`).test(log));
    } finally {
      await context.close();
      for (const p of pages) await p.shutdown();
      await serve.stop();
      await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
    }
  },
});
