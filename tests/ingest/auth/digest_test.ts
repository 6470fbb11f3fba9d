import { assert, assertEquals, assertThrows } from "../../_assert.ts";
import {
  digestAuthorization,
  parseChallenges,
  pickDigest,
} from "../../../src/ingest/auth/digest.ts";

// RFC 7616 section 3.9.1: the worked example, in MD5 and SHA-256.
const RFC = {
  user: "Mufasa",
  password: "Circle of Life",
  method: "GET",
  uri: "/dir/index.html",
  nc: 1,
  cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
};
const HEADER = 'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ' +
  'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, ' +
  'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", ' +
  'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Basic realm="x"';

function responseOf(header: string): string {
  return /response="([0-9a-f]+)"/.exec(header)![1];
}

Deno.test("parses several challenges with quoted commas", () => {
  const challenges = parseChallenges(HEADER);
  assertEquals(challenges.map((c) => [c.scheme, c.params.algorithm]), [
    ["digest", "SHA-256"],
    ["digest", "MD5"],
    ["basic", undefined],
  ]);
  assertEquals(challenges[0].params.qop, "auth, auth-int");
  assertEquals(challenges[2].params.realm, "x");
});

Deno.test("Digest responses match RFC 7616's example for MD5 and SHA-256", () => {
  const [sha, md5] = parseChallenges(HEADER);
  assertEquals(
    responseOf(digestAuthorization({ ...RFC, challenge: md5 })),
    "8ca523f5e9506fed4657c9700eebdbec",
  );
  const header = digestAuthorization({ ...RFC, challenge: sha });
  assertEquals(
    responseOf(header),
    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
  );
  for (
    const part of [
      'username="Mufasa"',
      "nc=00000001",
      "qop=auth",
      "algorithm=SHA-256",
      'opaque="FQhe',
    ]
  ) {
    assert(header.includes(part), `${part} in ${header}`);
  }
});

Deno.test("the strongest digest is picked; unsupported ones are refused", () => {
  assertEquals(pickDigest(parseChallenges(HEADER))?.params.algorithm, "SHA-256");
  const intOnly = parseChallenges('Digest realm="r", nonce="n", qop="auth-int"');
  assertEquals(pickDigest(intOnly), undefined);
  assertThrows(() => digestAuthorization({ ...RFC, challenge: intOnly[0] }), RangeError);
  // RFC 2069 style (no qop), as some old cameras send.
  const old = parseChallenges('Digest realm="r", nonce="n"')[0];
  const header = digestAuthorization({ ...RFC, challenge: old });
  assert(!header.includes("qop="), header);
});
