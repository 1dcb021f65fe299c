/**
 * `kortti sign` through the real PC/SC stack: a private pcscd with vpcd, the virtual card plugged in by
 * `kortti virtual-card --vpcd`, kortti signing through `--reader`, openssl checking; and a card pulled mid-signature
 * exits 4 and leaves no file.
 */
import { assertEquals, assertMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { stackTest, waitForCard } from "./helpers/stack.ts";
import { cmsVerifyArgs, opensslOk } from "./helpers/openssl.ts";

const PKI = `${ROOT}/fixtures/pki`;
const env = { SIGN_PIN: "123456" };

async function plugVirtualCard(profile: string, extra: string[] = []): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(`${ROOT}/kortti`, {
    args: ["virtual-card", "--profile", profile, "--vpcd", "127.0.0.1:35963", ...extra],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await waitForCard("Virtual PCD 00 00", true, 10000);
  return child;
}

async function unplug(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  await child.status;
  await waitForCard("Virtual PCD 00 00", false, 5000).catch(() => undefined);
}

stackTest("through pcscd and vpcd, every profile's CMS and raw signatures verify with openssl", async (stack) => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-sign-stack-" });
  try {
    await Deno.writeTextFile(`${dir}/data`, "over PC/SC\n".repeat(500));
    const cas = ["root-ca.pem", "citizen-ca.pem", "org-ca.pem"].map((f) => Deno.readTextFileSync(`${PKI}/${f}`));
    await Deno.writeTextFile(`${dir}/cas.pem`, cas.join(""));
    for (const profile of ["v4", "v3", "org"]) {
      const card = await plugVirtualCard(profile);
      try {
        const cms = await runKortti(
          ["sign", "--reader", "0", "--in", `${dir}/data`, "--out", `${dir}/${profile}.p7s`, "--pin-env", "SIGN_PIN"],
          { env },
        );
        assertEquals(cms.code, 0, cms.stderr);
        await opensslOk(cmsVerifyArgs(`${dir}/${profile}.p7s`, `${dir}/cas.pem`, { content: `${dir}/data` }));
        const raw = await runKortti([
          "sign",
          "--reader",
          "PCD 00 00",
          "--format",
          "raw",
          "--encoding",
          "der",
          "--hash",
          "sha256",
          "--in",
          `${dir}/data`,
          "--out",
          `${dir}/${profile}.sig`,
          "--pin-env",
          "SIGN_PIN",
        ], { env });
        assertEquals(raw.code, 0, raw.stderr);
        await opensslOk(["x509", "-in", `${PKI}/${profile}-sign.pem`, "-pubkey", "-noout", "-out", `${dir}/pub`]);
        await opensslOk([
          "dgst",
          "-sha256",
          "-verify",
          `${dir}/pub`,
          "-signature",
          `${dir}/${profile}.sig`,
          `${dir}/data`,
        ]);
      } finally {
        await unplug(card);
      }
    }
  } catch (error) {
    stack.printLog(30);
    throw error;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

stackTest("a card pulled during the signature exits 4 and leaves no output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kortti-sign-pulled-" });
  try {
    await Deno.writeTextFile(`${dir}/data`, "pulled\n");
    for (const n of [2, 8, 11]) {
      // A v4 signature over PC/SC is 12 APDUs: 6 to read the certificate, SELECT, GET DATA, VERIFY, MSE, PSO:HASH,
      // PSO:CDS. Pulled while reading, at VERIFY and at the signature itself.
      const card = await plugVirtualCard("v4", ["--fail-after", String(n)]);
      try {
        const run = await runKortti(
          ["sign", "--reader", "0", "--in", `${dir}/data`, "--out", `${dir}/out.p7s`, "--pin-env", "SIGN_PIN"],
          { env },
        );
        assertEquals(run.code, 4, `after ${n} APDUs: ${run.stderr}`);
        assertMatch(run.stderr, /^kortti: .*card/);
        assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["data"]);
      } finally {
        await unplug(card);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
