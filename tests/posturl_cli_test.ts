/**
 * `kortti post-url` end to end: real HTTPS and HTTP servers on loopback (a test CA made with openssl, trusted
 * through --ca-file / KORTTI_POSTURL_CA_FILE), the guide's bodies byte for byte, retries and their spacing,
 * refusals, and the recorded erasmartcard port.
 * @module
 */

import { runKortti } from "./helpers/run_kortti.ts";
import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { opensslOk } from "./helpers/openssl.ts";

/** One request a test server received. */
interface Received {
  at: number;
  method: string;
  path: string;
  search: string;
  contentType: string | null;
  body: Uint8Array;
}

/** A loopback server that records requests and answers 500 to the first `failFirst` of them. */
interface RecordingServer {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

const workDir = await Deno.makeTempDir({ prefix: "kortti-posturl-" });
const tls = await makeTestTls(workDir);

function startServer(options: { failFirst?: number; tls?: boolean } = {}): RecordingServer {
  const received: Received[] = [];
  const server = Deno.serve(
    {
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...(options.tls === false ? {} : { cert: tls.cert, key: tls.key }),
    },
    async (request) => {
      const url = new URL(request.url);
      received.push({
        at: performance.now(),
        method: request.method,
        path: url.pathname,
        search: url.search,
        contentType: request.headers.get("content-type"),
        body: new Uint8Array(await request.arrayBuffer()),
      });
      return new Response("ok", { status: received.length <= (options.failFirst ?? 0) ? 500 : 200 });
    },
  );
  return { port: server.addr.port, received, close: () => server.shutdown() };
}

/** Makes a test CA and a server certificate for localhost and 127.0.0.1 signed by it. */
async function makeTestTls(dir: string): Promise<{ caFile: string; cert: string; key: string }> {
  const run = (args: string[]) => opensslOk(args, { cwd: dir });
  await run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key"]);
  await run([
    "req",
    "-x509",
    "-new",
    "-key",
    "ca.key",
    "-subj",
    "/CN=kortti post-url test CA",
    "-days",
    "2",
    "-out",
    "ca.pem",
  ]);
  await run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "server.key"]);
  await run(["req", "-new", "-key", "server.key", "-subj", "/CN=localhost", "-out", "server.csr"]);
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
    "-out",
    "server.pem",
  ]); // deno-fmt-ignore
  return {
    caFile: `${dir}/ca.pem`,
    cert: await Deno.readTextFile(`${dir}/server.pem`),
    key: await Deno.readTextFile(`${dir}/server.key`),
  };
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// A data directory without a recorded port, so {PORT} defaults to 44304 whatever the user's machine holds.
const cleanEnv = { XDG_DATA_HOME: `${workDir}/empty-data`, HOME: `${workDir}/home` };

Deno.test("the guide's JSON example is posted byte for byte over HTTPS, without type and without the query", async () => {
  const server = startServer();
  try {
    const run = await runKortti([
      "post-url",
      `erasmartcardpost://https://localhost:${server.port}/PortData?type=json&eraScPort={PORT}&userId=1234321`,
      "--ca-file",
      tls.caFile,
    ], { env: cleanEnv });
    assertEquals(run.code, 0, run.stderr);
    assertEquals(server.received.length, 1);
    const [got] = server.received;
    assertEquals([got.method, got.path, got.search], ["POST", "/PortData", ""]);
    assertEquals(got.contentType, "application/json");
    assertEquals(decode(got.body), '{"eraScPort":"44304","userId":"1234321"}');
    assertMatch(run.stdout, /POST https:\/\/localhost:\d+\/PortData/);
    assertMatch(run.stdout, /\{"eraScPort":"44304","userId":"1234321"\}/); // what is posted is printed
  } finally {
    await server.close();
  }
});

Deno.test("the guide's XML example (erasmartcardpost: spelling, CA from the environment) byte for byte", async () => {
  const server = startServer();
  try {
    const run = await runKortti([
      "post-url",
      `erasmartcardpost:https://127.0.0.1:${server.port}/PortData?type=xml&eraScPort={PORT}&userId=1234321`,
    ], { env: { ...cleanEnv, KORTTI_POSTURL_CA_FILE: tls.caFile } });
    assertEquals(run.code, 0, run.stderr);
    const [got] = server.received;
    assertEquals(got.contentType, "application/xml");
    assertEquals(decode(got.body), "<result><eraScPort>44304</eraScPort><userId>1234321</userId></result>");
  } finally {
    await server.close();
  }
});

Deno.test("a target without a scheme goes over https, in the browser-serialized form too", async () => {
  const server = startServer();
  try {
    for (
      const url of [
        `erasmartcardpost://localhost:${server.port}/A?p={PORT}`,
        `erasmartcardpost://https//localhost:${server.port}/B?p=%7BPORT%7D`,
      ]
    ) {
      const run = await runKortti(["post-url", url, "--ca-file", tls.caFile, "--port", "45123"], { env: cleanEnv });
      assertEquals(run.code, 0, run.stderr);
    }
    assertEquals(server.received.map((r) => [r.path, decode(r.body)]), [
      ["/A", '{"p":"45123"}'],
      ["/B", '{"p":"45123"}'],
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("hostile values reach the server escaped: the XML parses back to the exact strings", async () => {
  const server = startServer();
  const hostile = `</v><admin>yes</admin><!--&amp;"'`;
  try {
    const run = await runKortti([
      "post-url",
      `erasmartcardpost://localhost:${server.port}/P?type=xml&v=${encodeURIComponent(hostile)}&w=%3Cb%3E`,
      "--ca-file",
      tls.caFile,
    ], { env: cleanEnv });
    assertEquals(run.code, 0, run.stderr);
    const body = decode(server.received[0].body);
    assertEquals(
      body,
      "<result><v>&lt;/v&gt;&lt;admin&gt;yes&lt;/admin&gt;&lt;!--&amp;amp;&quot;&apos;</v><w>&lt;b&gt;</w></result>",
    );
    // An independent XML parser reads back exactly the values sent, and no injected element.
    const parsed = await new Deno.Command("python3", {
      args: [
        "-c",
        "import sys,json,xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.read()); " +
        "print(json.dumps([r.tag,[(c.tag,c.text) for c in r]]))",
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = parsed.stdin.getWriter();
    await writer.write(new TextEncoder().encode(body));
    await writer.close();
    assertEquals(JSON.parse(decode((await parsed.output()).stdout)), ["result", [["v", hostile], ["w", "<b>"]]]);
  } finally {
    await server.close();
  }
});

Deno.test("a server failing 3 times gets the 4th attempt, each after the retry wait", async () => {
  const server = startServer({ failFirst: 3 });
  try {
    const run = await runKortti([
      "post-url",
      `erasmartcardpost://localhost:${server.port}/P?a=1`,
      "--ca-file",
      tls.caFile,
      "--retry-wait",
      "300ms",
    ], { env: cleanEnv });
    assertEquals(run.code, 0, run.stderr);
    assertEquals(server.received.length, 4);
    const gaps = server.received.slice(1).map((r, i) => r.at - server.received[i].at);
    for (const gap of gaps) assert(gap >= 290 && gap < 3000, `gap between attempts ${gap.toFixed(0)} ms`);
    assertEquals((run.stderr.match(/failed \(HTTP 500\); retrying in 300ms/g) ?? []).length, 3);
    assertMatch(run.stdout, /posted: HTTP 200 \(attempt 4\)/);
  } finally {
    await server.close();
  }
});

Deno.test("a server failing always gets exactly 11 attempts by default, then exit 8", async () => {
  const server = startServer({ failFirst: Infinity });
  try {
    const started = performance.now();
    const run = await runKortti([
      "post-url",
      `erasmartcardpost://localhost:${server.port}/P?a=1`,
      "--ca-file",
      tls.caFile,
      "--retry-wait",
      "50ms",
    ], { env: cleanEnv });
    assertEquals(run.code, 8, run.stderr);
    assertEquals(server.received.length, 11);
    const span = server.received[10].at - server.received[0].at;
    assert(span >= 10 * 49, `10 waits of 50 ms took ${span.toFixed(0)} ms`);
    assertMatch(run.stderr, /failed 11 times/);
    assert(performance.now() - started < 20_000);
  } finally {
    await server.close();
  }
});

Deno.test("an https target the CA does not vouch for is a failure (exit 8), not a silent success", async () => {
  const server = startServer();
  try {
    const run = await runKortti(
      ["post-url", `erasmartcardpost://localhost:${server.port}/P?a=1`, "--retries", "1", "--retry-wait", "10ms"],
      { env: cleanEnv },
    );
    assertEquals(run.code, 8);
    assertEquals(server.received.length, 0);
    assertEquals((run.stderr.match(/attempt \d of 2 failed/g) ?? []).length, 2);
  } finally {
    await server.close();
  }
});

Deno.test("plain http: refused to a non-loopback host (exit 2, says https), allowed to loopback", async () => {
  const refused = await runKortti(["post-url", "erasmartcardpost://http://www.example.test/P?a=1"], { env: cleanEnv });
  assertEquals(refused.code, 2);
  assertMatch(refused.stderr, /https is required/);
  assertEquals(refused.stdout, ""); // refused before anything is posted

  const server = startServer({ tls: false });
  try {
    const run = await runKortti(["post-url", `erasmartcardpost://http://127.0.0.1:${server.port}/P?a=1`], {
      env: cleanEnv,
    });
    assertEquals(run.code, 0, run.stderr);
    assertEquals(decode(server.received[0].body), '{"a":"1"}');
  } finally {
    await server.close();
  }
});

Deno.test("a URL that is not erasmartcardpost is refused with exit 2", async () => {
  const run = await runKortti(["post-url", "https://www.example.test/P?a=1"], { env: cleanEnv });
  assertEquals(run.code, 2);
  assertMatch(run.stderr, /^kortti: not an erasmartcardpost URL/);
});

Deno.test("{PORT} is the port a running serve recorded in the data directory, else 44304", async () => {
  const server = startServer({ tls: false });
  try {
    const dataHome = `${workDir}/data-with-port`;
    await Deno.mkdir(`${dataHome}/kortti`, { recursive: true });
    await Deno.writeTextFile(`${dataHome}/kortti/era-port`, "45999\n");
    const url = `erasmartcardpost://http://127.0.0.1:${server.port}/P?eraScPort={PORT}`;
    assertEquals((await runKortti(["post-url", url], { env: { ...cleanEnv, XDG_DATA_HOME: dataHome } })).code, 0);
    assertEquals((await runKortti(["post-url", url], { env: cleanEnv })).code, 0);
    assertEquals(server.received.map((r) => decode(r.body)), ['{"eraScPort":"45999"}', '{"eraScPort":"44304"}']);
  } finally {
    await server.close();
  }
});

Deno.test("bad option values are usage errors", async () => {
  for (const extra of [["--retries", "many"], ["--retry-wait", "soon"], ["--port", "70000"]]) {
    const run = await runKortti(["post-url", "erasmartcardpost://localhost/P", ...extra], { env: cleanEnv });
    assertEquals(run.code, 2, extra.join(" "));
  }
});

addEventListener("unload", () => Deno.removeSync(workDir, { recursive: true }));
