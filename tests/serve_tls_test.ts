/**
 * The local TLS identity of `kortti serve`: a CA with critical name constraints that `openssl verify` enforces
 * (a certificate for another name signed by the CA is rejected), keys 0600, reuse and renewal; browser trust with
 * certutil (`--install-ca`, `--check`, `--uninstall-ca`) in a temporary HOME; the systemd user unit.
 */

import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { run } from "./helpers/serve.ts";
import { runKortti } from "./helpers/run_kortti.ts";
import { ensureTlsIdentity } from "../lib/serve/tls.ts";

async function issueWithCa(dir: string, name: string, san: string): Promise<string> {
  const key = `${dir}/${name}.key`, csr = `${dir}/${name}.csr`, cert = `${dir}/${name}.pem`, ext = `${dir}/${name}.ext`;
  await Deno.writeTextFile(ext, `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  let out = await run("openssl", [
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    `/CN=${name}`,
  ]);
  assertEquals(out.code, 0, out.stderr);
  out = await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    `${dir}/data/tls/ca.pem`,
    "-CAkey",
    `${dir}/data/tls/ca-key.pem`,
    "-CAcreateserial",
    "-days",
    "30",
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  assertEquals(out.code, 0, out.stderr);
  return cert;
}

Deno.test("the local CA's name constraints: openssl accepts the server certificate and rejects other names", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-tls-" });
  try {
    const tls = await ensureTlsIdentity(`${dir}/data`);
    assertEquals(tls.created, "ca-and-server");
    const text = (await run("openssl", ["x509", "-in", tls.paths.caCert, "-noout", "-text"])).stdout;
    assertMatch(text, /Name Constraints: critical/);
    assertMatch(
      text,
      /Permitted:\s+DNS:localhost\s+DNS:erasmartcard\.ehoito\.fi\s+IP:127\.0\.0\.1\/255\.255\.255\.255/,
    );
    assertMatch(text, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    for (
      const [flag, value] of [["-verify_hostname", "localhost"], ["-verify_ip", "127.0.0.1"], ["-verify_ip", "::1"], [
        "-verify_hostname",
        "erasmartcard.ehoito.fi",
      ]]
    ) {
      const ok = await run("openssl", ["verify", "-CAfile", tls.paths.caCert, flag, value, tls.paths.serverCert]);
      assertEquals(ok.code, 0, `${value}: ${ok.stdout}${ok.stderr}`);
    }
    for (
      const [name, san] of [["evil.example", "DNS:evil.example"], ["bank", "DNS:www.bank.fi"], ["ip", "IP:10.0.0.1"], [
        "mixed",
        "DNS:localhost,DNS:evil.example",
      ]]
    ) {
      const cert = await issueWithCa(dir, name, san);
      const out = await run("openssl", ["verify", "-CAfile", tls.paths.caCert, cert]);
      assert(out.code !== 0, `${san} must be rejected: ${out.stdout}`);
      assertMatch(out.stdout + out.stderr, /permitted subtree violation/);
    }
    // And a name inside the constraints passes, so the rejection above is the constraints' doing.
    const inside = await issueWithCa(dir, "inside", "DNS:localhost");
    assertEquals((await run("openssl", ["verify", "-CAfile", tls.paths.caCert, inside])).code, 0);
    for (const key of [tls.paths.caKey, tls.paths.serverKey]) assertEquals((await Deno.stat(key)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the TLS identity is reused, and the server certificate is renewed by the same CA near expiry", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-tls-" });
  try {
    const first = await ensureTlsIdentity(dir);
    const again = await ensureTlsIdentity(dir);
    assertEquals(again.created, "nothing");
    assertEquals(again.caFingerprint, first.caFingerprint);
    assertEquals(again.keyPem, first.keyPem);
    const later = new Date(Date.now() + 380 * 86_400_000);
    const renewed = await ensureTlsIdentity(dir, later);
    assertEquals(renewed.created, "server");
    assertEquals(renewed.caFingerprint, first.caFingerprint);
    assert(renewed.serverNotAfter > first.serverNotAfter);
    const leftovers = [...Deno.readDirSync(`${dir}/tls`)].filter((e) => e.name.includes(".tmp-"));
    assertEquals(leftovers.length, 0);
    // A damaged key file is replaced, not trusted half-way.
    await Deno.writeTextFile(`${dir}/tls/server-key.pem`, "garbage");
    assertEquals((await ensureTlsIdentity(dir)).created, "server");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serve --install-ca / --check / --uninstall-ca with certutil in a temporary HOME", async () => {
  const home = await Deno.makeTempDir({ prefix: "kortti-home-" });
  try {
    const profile = `${home}/.mozilla/firefox/abcd.default-release`;
    await Deno.mkdir(profile, { recursive: true });
    assertEquals((await run("certutil", ["-N", "-d", `sql:${profile}`, "--empty-password"])).code, 0);
    const env = { HOME: home, XDG_DATA_HOME: `${home}/xdg` };
    const install = await runKortti(["serve", "--install-ca"], { env });
    assertEquals(install.code, 0, install.stderr);
    assertMatch(install.stdout, /Chromium\/Chrome .*: created-and-added/);
    assertMatch(install.stdout, /Firefox \(abcd\.default-release\) .*: added/);
    assertMatch(install.stdout, /update-ca-certificates/);
    const listed = await run("certutil", ["-L", "-d", `sql:${home}/.pki/nssdb`]);
    assertMatch(listed.stdout, /kortti local CA [0-9A-F]{8}\s+C,,/);
    const twice = await runKortti(["serve", "--install-ca"], { env });
    assertMatch(twice.stdout, /: already/);
    const check = await runKortti([
      "serve",
      "--check",
      "--allow-origin",
      "https://a.example",
      "--scs-port",
      "53970",
      "--era-port",
      "53971",
    ], { env });
    assertMatch(check.stdout, /ok\s+port 53970: free/);
    assertMatch(check.stdout, /ok\s+CA: .*name constraints/);
    assertMatch(check.stdout, /ok\s+browsers: CA trusted in Chromium\/Chrome, Firefox/);
    assertMatch(check.stdout, /server certificate: expires/);
    assertEquals(check.code, 0, check.stdout);
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 53970 });
    const taken = await runKortti(["serve", "--check", "--scs-port", "53970", "--no-era"], { env });
    listener.close();
    assertMatch(taken.stdout, /FIX\s+port 53970: taken/);
    assertMatch(taken.stdout, /FIX\s+origins: no origin allowed/);
    assertEquals(taken.code, 1);
    const uninstall = await runKortti(["serve", "--uninstall-ca"], { env });
    assertEquals(uninstall.code, 0, uninstall.stderr);
    assertMatch(uninstall.stdout, /Chromium\/Chrome .*: removed/);
    const after = await run("certutil", ["-L", "-d", `sql:${profile}`]);
    assert(!/kortti local CA/.test(after.stdout));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("serve --install-service writes a systemd user unit with the options; --uninstall-service removes it", async () => {
  const home = await Deno.makeTempDir({ prefix: "kortti-home-" });
  try {
    const env = { HOME: home, XDG_CONFIG_HOME: `${home}/config` };
    const out = await runKortti(["serve", "--install-service", "--allow-origin", "https://a.example", "--no-era"], {
      env,
    });
    assertEquals(out.code, 0, out.stderr);
    const unit = await Deno.readTextFile(`${home}/config/systemd/user/kortti-serve.service`);
    assertMatch(unit, /ExecStart=\S+kortti serve --allow-origin https:\/\/a\.example --no-era/);
    assertMatch(unit, /Restart=on-failure/);
    assertMatch(unit, /WantedBy=default\.target/);
    assertMatch(out.stdout, /wrote .*kortti-serve\.service/);
    const removed = await runKortti(["serve", "--uninstall-service"], { env });
    assertEquals(removed.code, 0);
    assertMatch(removed.stdout, /removed/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
