/**
 * erasmartcardpost:// parsing, body encoding and the https policy (lib/posturl.ts), without the network.
 * @module
 */

import {
  assertTargetAllowed,
  encodePostBody,
  escapeXml,
  isLoopbackHost,
  parseDuration,
  parseEraPostUrl,
} from "../lib/posturl.ts";
import { UsageError } from "../lib/errors.ts";
import { assert, assertEquals, assertMatch, assertThrows } from "./helpers/assert.ts";

const GUIDE_URL = "erasmartcardpost://https://www.example.fi/PortData?type=json&eraScPort={PORT}&userId=1234321";

Deno.test("both scheme spellings give the same target and parameters", () => {
  const slashes = parseEraPostUrl(GUIDE_URL, 44304);
  const colon = parseEraPostUrl(GUIDE_URL.replace("erasmartcardpost://", "erasmartcardpost:"), 44304);
  for (const parsed of [slashes, colon]) {
    assertEquals(parsed.target.href, "https://www.example.fi/PortData");
    assertEquals(parsed.format, "json");
    assertEquals(parsed.params, [["eraScPort", "44304"], ["userId", "1234321"]]);
  }
});

Deno.test("{PORT} is replaced by the given port, also when a browser percent-encoded it", () => {
  assertEquals(parseEraPostUrl(GUIDE_URL, 45001).params[0], ["eraScPort", "45001"]);
  const encoded = parseEraPostUrl("erasmartcardpost://https://h.example/P?p=%7BPORT%7D&q=x%7bport%7dy", 45002);
  assertEquals(encoded.params, [["p", "45002"], ["q", "x45002y"]]);
});

Deno.test("a target without a scheme defaults to https", () => {
  assertEquals(parseEraPostUrl("erasmartcardpost://www.example.fi/P?a=1", 1).target.href, "https://www.example.fi/P");
  assertEquals(
    parseEraPostUrl("erasmartcardpost:www.example.fi:8443/P?a=1", 1).target.href,
    "https://www.example.fi:8443/P",
  );
  assertEquals(parseEraPostUrl("erasmartcardpost://http://127.0.0.1:9000/P", 1).target.protocol, "http:");
});

Deno.test("the browser-serialized form erasmartcardpost://https//host is understood", () => {
  const serialized = new URL(GUIDE_URL).href; // what a browser hands over: "https//www.example.fi"
  assertMatch(serialized, /^erasmartcardpost:\/\/https\/\/www/);
  assertEquals(parseEraPostUrl(serialized, 44304).target.href, "https://www.example.fi/PortData");
});

Deno.test("type selects the format, is not sent, and only json or xml are accepted", () => {
  const xml = parseEraPostUrl("erasmartcardpost://h.example/P?a=1&type=XML&b=2", 1);
  assertEquals(xml.format, "xml");
  assertEquals(xml.params, [["a", "1"], ["b", "2"]]);
  assertThrows(() => parseEraPostUrl("erasmartcardpost://h.example/P?type=yaml", 1), UsageError, /yaml/);
});

Deno.test("URLs that are not erasmartcardpost are refused as usage errors", () => {
  for (const url of ["https://www.example.fi/P?a=1", "erasmartcard://h/P", "javascript:alert(1)", ""]) {
    const error = assertThrows(() => parseEraPostUrl(url, 1), UsageError, /not an erasmartcardpost URL/);
    assertEquals(error.exitCode, 2);
  }
});

Deno.test("the guide's two bodies, byte for byte", () => {
  const params: Array<[string, string]> = [["eraScPort", "44304"], ["userId", "1234321"]];
  assertEquals(encodePostBody(params, "json"), {
    body: '{"eraScPort":"44304","userId":"1234321"}',
    contentType: "application/json",
  });
  assertEquals(encodePostBody(params, "xml"), {
    body: "<result><eraScPort>44304</eraScPort><userId>1234321</userId></result>",
    contentType: "application/xml",
  });
});

Deno.test("hostile values are escaped in XML and JSON; hostile names are refused in XML", () => {
  const hostile = `</userId><admin>1</admin><!-- & "' \r`;
  assertEquals(escapeXml(hostile), "&lt;/userId&gt;&lt;admin&gt;1&lt;/admin&gt;&lt;!-- &amp; &quot;&apos; &#13;");
  const body = encodePostBody([["userId", hostile]], "xml").body;
  assertEquals(body.match(/</g)?.length, 4); // only <result>, <userId>, </userId>, </result>
  assertEquals(JSON.parse(encodePostBody([["userId", hostile]], "json").body), { userId: hostile });
  assertThrows(() => encodePostBody([["a><b", "1"]], "xml"), UsageError, /XML element name/);
  assertThrows(() => encodePostBody([["a", "\u0001"]], "xml"), UsageError, /control character/);
});

Deno.test("a parameter named __proto__ stays plain data in JSON", () => {
  assertEquals(encodePostBody([["__proto__", "x"]], "json").body, '{"__proto__":"x"}');
});

Deno.test("plain http is refused except to loopback or with allowHttp, and the message says https is required", () => {
  const error = assertThrows(
    () => assertTargetAllowed(new URL("http://www.example.fi/P"), { allowHttp: false }),
    UsageError,
    /https is required/,
  );
  assertEquals(error.exitCode, 2);
  for (const host of ["127.0.0.1:8080", "127.1.2.3", "localhost:9", "[::1]:80"]) {
    assert(isLoopbackHost(new URL(`http://${host}/`)), host);
    assertTargetAllowed(new URL(`http://${host}/P`), { allowHttp: false });
  }
  assert(!isLoopbackHost(new URL("http://127.0.0.1.example.fi/")));
  assertTargetAllowed(new URL("http://www.example.fi/P"), { allowHttp: true });
  assertTargetAllowed(new URL("https://www.example.fi/P"), { allowHttp: false });
});

Deno.test("durations: 2s, 500ms, 1.5s, 1m and bare seconds", () => {
  assertEquals([parseDuration("2s"), parseDuration("500ms"), parseDuration("1.5s"), parseDuration("1m")], [
    2000,
    500,
    1500,
    60_000,
  ]);
  assertEquals(parseDuration("3"), 3000);
  assertEquals(parseDuration("soon"), undefined);
});
