/**
 * The SCS toolkit of the integration guide: serialization for POST and GET, reading sign and version answers with
 * the guide's error codes (0, 3000, 3100, 3200), and `ScsClient` against a running `kortti serve`.
 */

import { assert, assertEquals, assertMatch } from "./helpers/assert.ts";
import { b64, startServe, unb64 } from "./helpers/serve.ts";
import {
  deserializeSCSSignResponse,
  deserializeSCSVersionResponse,
  ScsClient,
  type SCSSignRequest,
  serializeSCSSignRequest,
  splitList,
  ToolkitError,
} from "../lib/scs/mod.ts";
import { parseSignQuery } from "../lib/serve/request.ts";

const REQUEST: SCSSignRequest = {
  version: "1.1",
  selector: {
    keyusages: ["nonrepudiation"],
    keyalgorithms: ["ec"],
    issuers: ["CN=DVV TEST Citizen Certificates - G5E, O=Digi- ja väestötietovirasto TEST, C=FI"],
    strictKeypolicy: false,
  },
  content: "aGVsbG8+Pz8/",
  contentType: "data",
  hashAlgorithm: "SHA256",
  signatureType: "cms",
};

Deno.test("serializeSCSSignRequest: POST is the JSON body, GET a query string the server reads back", () => {
  const post = serializeSCSSignRequest(REQUEST, "POST");
  assertEquals(post.error.errorCode, 0);
  assertEquals(JSON.parse(post.result!), REQUEST);
  const get = serializeSCSSignRequest(REQUEST, "GET");
  assertEquals(get.error.errorCode, 0);
  const back = parseSignQuery(new URLSearchParams(get.result!));
  assertEquals(back.selector.issuers, REQUEST.selector!.issuers);
  assertEquals(back.selector.keyusages, ["nonrepudiation"]);
  assertEquals(b64(back.content), REQUEST.content);
  const broken = serializeSCSSignRequest({ ...REQUEST, content: 5 as unknown as string }, "POST");
  assertEquals(broken.error.errorCode, 3000);
  assertEquals(broken.result, undefined);
  assertMatch(broken.error.errorText, /content/);
  assertEquals(serializeSCSSignRequest({ ...REQUEST, selector: { akis: [1] } } as never, "GET").error.errorCode, 3000);
});

Deno.test("deserializeSCSSignResponse: mandatory fields, codes 3100 and 3200", () => {
  const ok = deserializeSCSSignResponse(
    '{"version":"1.3","status":"ok","reasonCode":200,"reasonText":"Signature generated","signature":"AA==",' +
      '"signatureType":"signature","signatureAlgorithm":"SHA256withECDSA","chain":["AQ=="]}',
  );
  assertEquals(ok.error.errorCode, 0);
  assertEquals(ok.result!.chain, ["AQ=="]);
  assertEquals(deserializeSCSSignResponse("not json").error.errorCode, 3100);
  assertEquals(deserializeSCSSignResponse("[]").error.errorCode, 3100);
  const missing = deserializeSCSSignResponse('{"version":"1.3","status":"failed"}');
  assertEquals(missing.error.errorCode, 3200);
  assertMatch(missing.error.errorText, /reasonCode, reasonText/);
});

Deno.test("deserializeSCSVersionResponse: both spellings of signatureAlgorithm(s); old servers", () => {
  const base = {
    version: "1.3",
    httpMethods: "GET, POST",
    contentTypes: "data, digest",
    signatureTypes: "signature, cms",
    selectorAvailable: true,
    hashAlgorithms: "SHA256,SHA384",
  };
  const plural = deserializeSCSVersionResponse(JSON.stringify({ ...base, signatureAlgorithms: "RSA, ECDSA" }));
  const singular = deserializeSCSVersionResponse(JSON.stringify({ ...base, signatureAlgorithm: "RSA" }));
  assertEquals(plural.result!.signatureAlgorithms, "RSA, ECDSA");
  assertEquals(singular.result!.signatureAlgorithms, "RSA");
  assertEquals(deserializeSCSVersionResponse(JSON.stringify(base)).error.errorCode, 3200);
  assertEquals(deserializeSCSVersionResponse(JSON.stringify({ ...base, version: "1.1" })).error.errorCode, 0);
  assertEquals(splitList(plural.result!.hashAlgorithms), ["SHA256", "SHA384"]);
  assertEquals(splitList(""), []);
});

Deno.test("ScsClient against kortti serve: version, POST and GET signatures, failures as answers", async () => {
  const origin = "https://toolkit.example.test";
  const serve = await startServe({ origins: [origin], port: 53964 });
  try {
    const withOrigin: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set("Origin", origin);
      return fetch(input, { ...init, headers, client: serve.client } as unknown as RequestInit);
    };
    const client = new ScsClient({ baseUrl: "https://localhost:53964", fetch: withOrigin });
    assertEquals((await client.version()).version, "1.3");
    const request: SCSSignRequest = { ...REQUEST, selector: { keyusages: ["nonrepudiation"] } };
    const post = await client.sign(request);
    assertEquals(post.status, "ok", JSON.stringify(post));
    assert(unb64(post.signature!).length > 500);
    const get = await client.sign({ ...request, signatureType: "signature" }, "GET");
    assertEquals(get.status, "ok", JSON.stringify(get));
    assertEquals(unb64(get.signature!).length, 96);
    const refused = await client.sign({ ...request, hashAlgorithm: "SHA1" });
    assertEquals(refused.reasonCode, 501);
    const nowhere = new ScsClient({ baseUrl: "https://127.0.0.1:1", timeoutMs: 2000 });
    let caught: unknown;
    await nowhere.version().catch((e) => caught = e);
    assert(caught instanceof ToolkitError);
  } finally {
    await serve.stop();
    await Deno.remove(serve.dir, { recursive: true }).catch(() => {});
  }
});
