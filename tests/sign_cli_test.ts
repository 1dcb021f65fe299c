/**
 * `kortti sign` as a user runs it: outputs, JSON, PIN sources and their refusals, usage and I/O errors, and that
 * nothing is left behind when signing fails.
 */
import { assert, assertEquals, assertMatch, assertNotMatch } from "./helpers/assert.ts";
import { ROOT, runKortti } from "./helpers/run_kortti.ts";
import { cmsVerifyArgs, opensslOk } from "./helpers/openssl.ts";

const PKI = `${ROOT}/fixtures/pki`;
const env = { SIGN_PIN: "123456", AUTH_PIN: "1234", WRONG_PIN: "999999" };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kortti-sign-cli-" });
  try {
    await Deno.writeTextFile(`${dir}/data`, "sign me\n".repeat(1000));
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("sign writes a detached CMS that openssl verifies against the test PKI, and --json describes it", async () => {
  await withDir(async (dir) => {
    const run = await runKortti(
      ["sign", "--virtual-card", "--in", `${dir}/data`, "--out", `${dir}/data.p7s`, "--pin-env", "SIGN_PIN", "--json"],
      { env },
    );
    assertEquals(run.code, 0, run.stderr);
    assertEquals(run.stderr, "", "nothing on stderr when it is not a terminal");
    const json = JSON.parse(run.stdout);
    assertEquals(json.out, `${dir}/data.p7s`);
    assertEquals(json.format, "cms-detached");
    assertEquals(json.signatureAlgorithm, "SHA384withECDSA");
    assertEquals(json.certificate.key, "sign");
    assertEquals(json.certificate.keyAlgorithm, "EC P-384");
    assertEquals(json.certificate.pin.name, "PIN2");
    assertMatch(json.certificate.pem, /^-----BEGIN CERTIFICATE-----/);
    await Deno.writeTextFile(
      `${dir}/cas.pem`,
      Deno.readTextFileSync(`${PKI}/root-ca.pem`) + Deno.readTextFileSync(`${PKI}/citizen-ca.pem`),
    );
    await opensslOk(cmsVerifyArgs(`${dir}/data.p7s`, `${dir}/cas.pem`, { content: `${dir}/data` }));
    assertEquals(entries(dir), ["cas.pem", "data", "data.p7s"]);
  });
});

Deno.test("without --out the signature goes to standard output; --in - reads standard input", async () => {
  await withDir(async (dir) => {
    const run = await runKortti(
      ["sign", "--virtual-card=v3", "--format", "raw", "--encoding", "der", "--in", "-", "--pin-env", "SIGN_PIN"],
      { env, stdin: Deno.readFileSync(`${dir}/data`) },
    );
    assertEquals(run.code, 0, run.stderr);
    await Deno.writeFile(`${dir}/sig`, run.stdoutBytes);
    await opensslOk(["x509", "-in", `${PKI}/v3-sign.pem`, "-pubkey", "-noout", "-out", `${dir}/pub`]);
    await opensslOk(["dgst", "-sha256", "-verify", `${dir}/pub`, "-signature", `${dir}/sig`, `${dir}/data`]);
  });
});

Deno.test("--key auth signs with the authentication key and PIN1", async () => {
  await withDir(async (dir) => {
    const run = await runKortti([
      "sign",
      "--virtual-card=v3",
      "--key",
      "auth",
      "--format",
      "raw",
      "--in",
      `${dir}/data`,
      "--out",
      `${dir}/sig`,
      "--pin-env",
      "AUTH_PIN",
      "--json",
    ], { env });
    assertEquals(run.code, 0, run.stderr);
    assertEquals(JSON.parse(run.stdout).signatureAlgorithm, "SHA256withRSAandMGF1");
    await opensslOk(["x509", "-in", `${PKI}/v3-auth.pem`, "-pubkey", "-noout", "-out", `${dir}/pub`]);
    await opensslOk([
      "dgst",
      "-sha256",
      "-sigopt",
      "rsa_padding_mode:pss",
      "-sigopt",
      "rsa_pss_saltlen:digest",
      "-verify",
      `${dir}/pub`,
      "-signature",
      `${dir}/sig`,
      `${dir}/data`,
    ]);
  });
});

Deno.test("a wrong PIN exits 5, says how many tries are left, and leaves no file", async () => {
  await withDir(async (dir) => {
    const run = await runKortti(
      ["sign", "--virtual-card", "--in", `${dir}/data`, "--out", `${dir}/x.p7s`, "--pin-env", "WRONG_PIN"],
      { env },
    );
    assertEquals(run.code, 5);
    assertMatch(run.stderr, /^kortti: wrong PIN2, 4 tries left/);
    assertNotMatch(run.stderr, /999999/);
    assertEquals(entries(dir), ["data"]);
  });
});

Deno.test("no PIN source and no terminal exits 5 before the card is touched", async () => {
  await withDir(async (dir) => {
    const run = await runKortti(["sign", "--virtual-card", "--trace", "--in", `${dir}/data`, "--out", `${dir}/x`]);
    assertEquals(run.code, 5);
    assertMatch(run.stderr, /no PIN source/);
    assertNotMatch(run.stderr, /trace/, "no APDU was sent");
    assertEquals(entries(dir), ["data"]);
  });
});

Deno.test("--pin-file: a private file works, one others can read is refused with exit 5", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/pin`, "123456\n", { mode: 0o600 });
    await Deno.chmod(`${dir}/pin`, 0o600);
    const ok = await runKortti([
      "sign",
      "--virtual-card",
      "--in",
      `${dir}/data`,
      "--out",
      `${dir}/a`,
      "--pin-file",
      `${dir}/pin`,
    ]);
    assertEquals(ok.code, 0, ok.stderr);
    await Deno.chmod(`${dir}/pin`, 0o644);
    const refused = await runKortti([
      "sign",
      "--virtual-card",
      "--trace",
      "--in",
      `${dir}/data`,
      "--out",
      `${dir}/b`,
      "--pin-file",
      `${dir}/pin`,
    ]);
    assertEquals(refused.code, 5);
    assertMatch(refused.stderr, /can be read or written by others.*chmod 600/);
    assertNotMatch(refused.stderr, /trace/);
  });
});

Deno.test("--pin-fd reads the PIN from an inherited descriptor", async () => {
  await withDir(async (dir) => {
    const out = await new Deno.Command("bash", {
      args: [
        "-c",
        `printf '123456\\n' | ./kortti sign --virtual-card --in "${dir}/data" --out "${dir}/a" --pin-fd 3 3<&0 </dev/null`,
      ],
      cwd: ROOT,
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assert(Deno.statSync(`${dir}/a`).size > 500);
  });
});

Deno.test("usage and I/O errors: digest length, existing output, missing input, --json to stdout", async () => {
  await withDir(async (dir) => {
    const badDigest = await runKortti([
      "sign",
      "--virtual-card",
      "--format",
      "raw",
      "--hash",
      "sha384",
      "--digest",
      "00112233",
      "--out",
      `${dir}/d`,
      "--pin-env",
      "SIGN_PIN",
    ], { env });
    assertEquals(badDigest.code, 2);
    assertMatch(badDigest.stderr, /4 bytes but a sha384 digest is 48 bytes/);
    await Deno.writeTextFile(`${dir}/exists`, "keep");
    const exists = await runKortti([
      "sign",
      "--virtual-card",
      "--in",
      `${dir}/data`,
      "--out",
      `${dir}/exists`,
      "--pin-env",
      "SIGN_PIN",
    ], { env });
    assertEquals(exists.code, 7);
    assertEquals(await Deno.readTextFile(`${dir}/exists`), "keep");
    const forced = await runKortti(
      ["sign", "--virtual-card", "--in", `${dir}/data`, "--out", `${dir}/exists`, "--pin-env", "SIGN_PIN", "--force"],
      { env },
    );
    assertEquals(forced.code, 0, forced.stderr);
    assert(Deno.statSync(`${dir}/exists`).size > 500);
    const missing = await runKortti([
      "sign",
      "--virtual-card",
      "--in",
      `${dir}/nope`,
      "--out",
      `${dir}/x`,
      "--pin-env",
      "SIGN_PIN",
    ], { env });
    assertEquals(missing.code, 7);
    assertMatch(missing.stderr, /nope/);
    const jsonToStdout = await runKortti([
      "sign",
      "--virtual-card",
      "--in",
      `${dir}/data`,
      "--json",
      "--pin-env",
      "SIGN_PIN",
    ], { env });
    assertEquals(jsonToStdout.code, 2);
    assertEquals(JSON.parse(jsonToStdout.stderr).error.code, "USAGE");
    const cmsDigest = await runKortti([
      "sign",
      "--virtual-card",
      "--format",
      "cms",
      "--digest",
      "00".repeat(48),
      "--pin-env",
      "SIGN_PIN",
      "--out",
      `${dir}/y`,
    ], { env });
    assertEquals(cmsDigest.code, 2);
    assertEquals(entries(dir), ["data", "exists"]);
  });
});

Deno.test("a 2 GB sparse input signs with flat memory and, on a terminal, a progress line", async () => {
  await withDir(async (dir) => {
    const big = `${dir}/big`;
    const file = await Deno.open(big, { create: true, write: true });
    await file.truncate(2 * 1024 ** 3);
    file.close();
    const run = await onTerminal(
      `/usr/bin/time -o ${dir}/rss -f maxrss=%M ./kortti sign --virtual-card --hash sha256 --in ${big} ` +
        `--out ${dir}/big.p7s --pin-env SIGN_PIN`,
    );
    assertEquals(run.code, 0, run.transcript);
    assertMatch(run.transcript, /kortti: hashing [\d.]+ [MG]iB of 2\.00 GiB, \d+ s left, [\d.]+ [MG]iB\/s/);
    const maxRssKiB = Number(Deno.readTextFileSync(`${dir}/rss`).match(/maxrss=(\d+)/)?.[1]);
    assert(maxRssKiB > 0 && maxRssKiB < 150 * 1024, `peak RSS ${maxRssKiB} KiB`);
    // The message-digest attribute holds the SHA-256 of 2 GiB of zeros (computed once with
    // `head -c 2147483648 /dev/zero | openssl dgst -sha256`).
    const cms = await Deno.readFile(`${dir}/big.p7s`);
    const zeroDigest = Uint8Array.from(ZEROS_2GIB_SHA256.match(/../g)!, (h) => parseInt(h, 16));
    assert(indexOf(cms, zeroDigest) > 0, "message-digest is the SHA-256 of the whole input");
  });
});

Deno.test("embedded content (--format cms) costs its size in memory once, and openssl gets it back", async () => {
  await withDir(async (dir) => {
    const input = `${dir}/100mb`;
    const file = await Deno.open(input, { create: true, write: true });
    await file.truncate(100 * 1024 ** 2);
    await file.write(new TextEncoder().encode("not only zeros"));
    file.close();
    const out = await new Deno.Command("/usr/bin/time", {
      args: [
        "-f",
        "maxrss=%M",
        `${ROOT}/kortti`,
        "sign",
        "--virtual-card",
        "--format",
        "cms",
        "--in",
        input,
        "--out",
        `${dir}/a.p7m`,
        "--pin-env",
        "SIGN_PIN",
      ],
      env,
      stdout: "null",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 0, stderr);
    const maxRssMiB = Number(stderr.match(/maxrss=(\d+)/)?.[1]) / 1024;
    assert(maxRssMiB < 100 + 120, `peak RSS ${maxRssMiB.toFixed(0)} MiB for 100 MiB of content`);
    await opensslOk([
      "cms",
      "-verify",
      "-binary",
      "-noverify",
      "-inform",
      "DER",
      "-in",
      `${dir}/a.p7m`,
      "-out",
      `${dir}/back`,
    ]);
    const back = await new Deno.Command("cmp", { args: [input, `${dir}/back`] }).output();
    assert(back.success, "the embedded content is the input");
  });
});

const ZEROS_2GIB_SHA256 = "a7c744c13cc101ed66c29f672f92455547889cc586ce6d44fe76ae824958ea51";

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Runs a shell command line on a pseudo-terminal (util-linux `script`), optionally typing `typed` after a pause. */
async function onTerminal(line: string, typed?: string): Promise<{ code: number; transcript: string }> {
  const feed = typed === undefined ? "sleep 0" : `(sleep 1.5; printf '${typed}'; sleep 0.5)`;
  const out = await new Deno.Command("bash", {
    args: ["-c", `${feed} | script -qec "$LINE" /dev/null`],
    env: { LINE: line, SIGN_PIN: "123456" },
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, transcript: new TextDecoder().decode(out.stdout) };
}

Deno.test("on a terminal: a hidden prompt names the PIN and the holder, and the PIN is not echoed", async () => {
  await withDir(async (dir) => {
    const run = await onTerminal(`./kortti sign --virtual-card --in ${dir}/data --out ${dir}/a.p7s`, "123456\\r");
    assertEquals(run.code, 0, run.transcript);
    assertMatch(run.transcript, /PIN2 \(signature PIN\) for MEIKÄLÄINEN-TEST MATTI \d+C's card, 5 tries left: /);
    assertNotMatch(run.transcript, /123456/);
    assert(Deno.statSync(`${dir}/a.p7s`).size > 500);
  });
});

Deno.test("on a terminal: binary output to the terminal is refused (exit 2)", async () => {
  await withDir(async (dir) => {
    const run = await onTerminal(`./kortti sign --virtual-card --in ${dir}/data --pin-env SIGN_PIN`);
    assertEquals(run.code, 2);
    assertMatch(run.transcript, /refusing to write a binary signature to the terminal/);
  });
});

Deno.test("on a terminal: a slow input shows a progress line, --quiet hides it", async () => {
  await withDir(async (dir) => {
    // A pipe that pauses: hashing takes over a second with almost no CPU.
    const slow = "(head -c 4000000 /dev/zero; sleep 1.3; head -c 4000000 /dev/zero)";
    const sign = `./kortti sign --virtual-card --in - --pin-env SIGN_PIN`;
    const shown = await onTerminal(`${slow} | ${sign} --out ${dir}/a.p7s`);
    assertEquals(shown.code, 0, shown.transcript);
    assertMatch(shown.transcript, /kortti: hashing [\d.]+ MiB, [\d.]+ [KM]iB\/s/);
    const quiet = await onTerminal(`${slow} | ${sign} --out ${dir}/b.p7s --quiet`);
    assertEquals(quiet.code, 0, quiet.transcript);
    assertEquals(quiet.transcript, "");
  });
});
