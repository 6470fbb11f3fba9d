/** Which Authorization header goes out, request by request, against a scripted camera. */
import { assertEquals, assertMatch } from "../../_assert.ts";
import { HttpAuth } from "../../../src/ingest/auth/http_auth.ts";

type Step = (auth: string | null) => Response;

function scripted(steps: Step[]) {
  const sent: (string | null)[] = [];
  const fetch = (_url: URL, init: RequestInit) => {
    const auth = new Headers(init.headers).get("authorization");
    sent.push(auth);
    return Promise.resolve(steps[sent.length - 1](auth));
  };
  return { sent, fetch };
}

const challenge = (header: string) => () =>
  new Response("no", { status: 401, headers: { "www-authenticate": header } });
const ok = () => new Response("jpeg");
const url = new URL("http://cam/ISAPI/Streaming/channels/101/picture?x=1");

Deno.test("Bearer goes out on every request; no credentials, no header", async () => {
  const bearer = scripted([ok, ok]);
  const auth = new HttpAuth({ scheme: "bearer", token: "T" });
  await auth.fetch(url, {}, bearer.fetch);
  await auth.fetch(url, {}, bearer.fetch);
  assertEquals(bearer.sent, ["Bearer T", "Bearer T"]);
  const none = scripted([ok]);
  await new HttpAuth().fetch(url, {}, none.fetch);
  assertEquals(none.sent, [null]);
});

Deno.test("a password waits for the challenge: Basic, then sent up front", async () => {
  const s = scripted([challenge('Basic realm="cam"'), ok, ok]);
  const auth = new HttpAuth({ scheme: "password", user: "admin", password: "pw" });
  assertEquals((await auth.fetch(url, {}, s.fetch)).status, 200);
  await auth.fetch(url, {}, s.fetch);
  assertEquals(s.sent, [null, `Basic ${btoa("admin:pw")}`, `Basic ${btoa("admin:pw")}`]);
  assertEquals(auth.scheme, "basic");
});

Deno.test("Digest: nonce reused with a growing nc; a new (stale) nonce answered once", async () => {
  const s = scripted([
    challenge('Digest realm="cam", nonce="n1", qop="auth", algorithm=MD5'),
    ok,
    ok,
    challenge('Digest realm="cam", nonce="n2", qop="auth", algorithm=MD5, stale=true'),
    ok,
  ]);
  const auth = new HttpAuth({ scheme: "password", user: "admin", password: "pw" });
  await auth.fetch(url, {}, s.fetch);
  await auth.fetch(url, {}, s.fetch);
  const last = await auth.fetch(url, {}, s.fetch);
  assertEquals(last.status, 200);
  assertEquals(s.sent[0], null);
  assertMatch(s.sent[1]!, /nonce="n1".*nc=00000001/);
  assertMatch(s.sent[2]!, /nonce="n1".*nc=00000002/);
  assertMatch(s.sent[3]!, /nonce="n1".*nc=00000003/);
  assertMatch(s.sent[4]!, /nonce="n2".*nc=00000001/);
  assertMatch(s.sent[1]!, /uri="\/ISAPI\/Streaming\/channels\/101\/picture\?x=1"/);
});

Deno.test("a wrong password gives the caller the 401 after one answered challenge", async () => {
  const wrong = challenge('Digest realm="cam", nonce="n", qop="auth"');
  const s = scripted([wrong, wrong]);
  const auth = new HttpAuth({ scheme: "password", user: "admin", password: "bad" });
  assertEquals((await auth.fetch(url, {}, s.fetch)).status, 401);
  assertEquals(s.sent.length, 2);
});
