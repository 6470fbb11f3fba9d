import { assertEquals, assertThrows } from "../../_assert.ts";
import {
  secretsOf,
  takeCredentials,
  TOKEN_ENV,
  USER_ENV,
} from "../../../src/ingest/auth/credentials.ts";
import { basicAuthorization } from "../../../src/ingest/auth/basic.ts";

const noEnv = () => undefined;

Deno.test("credentials come from userinfo, then --user/--token, then the environment", () => {
  const fromUrl = takeCredentials(new URL("http://admin:p%40ss@cam/snap.jpg"), {
    user: "x:y",
    env: noEnv,
  });
  assertEquals(fromUrl.url.href, "http://cam/snap.jpg");
  assertEquals(fromUrl.credentials, { scheme: "password", user: "admin", password: "p@ss" });
  const fromFlag = takeCredentials(new URL("http://cam/"), { user: "u:a:b", env: noEnv });
  assertEquals(fromFlag.credentials, { scheme: "password", user: "u", password: "a:b" });
  const token = takeCredentials(new URL("http://cam/"), { token: "T", env: noEnv });
  assertEquals(token.credentials, { scheme: "bearer", token: "T" });
  const env = (name: string) => ({ [USER_ENV]: undefined, [TOKEN_ENV]: "ENVTOKEN" })[name];
  assertEquals(takeCredentials(new URL("http://cam/"), { env }).credentials, {
    scheme: "bearer",
    token: "ENVTOKEN",
  });
  assertEquals(takeCredentials(new URL("http://cam/"), { env: noEnv }).credentials, undefined);
  assertThrows(() => takeCredentials(new URL("http://cam/"), { user: "nocolon" }), TypeError);
});

Deno.test("the secrets of credentials include the Basic header value", () => {
  assertEquals(basicAuthorization("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  assertEquals(secretsOf({ scheme: "password", user: "Aladdin", password: "open sesame" }), [
    "open sesame",
    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
  ]);
  // beyond Latin-1 (btoa of the text would throw) and beyond ASCII: the value actually sent
  for (const password of ["pässwörd", "пароль ✓"]) {
    const [, header] = secretsOf({ scheme: "password", user: "cam", password });
    assertEquals(`Basic ${header}`, basicAuthorization("cam", password));
  }
});
