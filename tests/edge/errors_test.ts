import { assertEquals, assertStrictEquals } from "../_assert.ts";
import { ImageDecodeError } from "../../mod.ts";
import {
  DECODE_ERROR_STATUS,
  decodeErrorStatus,
  errorResponse,
  HttpError,
} from "../../edge/errors.ts";

Deno.test("errors: decode codes map by code, unknown codes to 422", async () => {
  assertEquals(DECODE_ERROR_STATUS, {
    EMPTY: 422,
    UNSUPPORTED_FORMAT: 415,
    TRUNCATED: 422,
    CORRUPT: 422,
    TOO_SMALL: 422,
    TOO_LARGE: 422,
    TOO_COMPLEX: 422,
  });
  assertStrictEquals(decodeErrorStatus("SOMETHING_NEW"), 422);
  const response = errorResponse(new ImageDecodeError("UNSUPPORTED_FORMAT", "a BMP"));
  assertStrictEquals(response.status, 415);
  assertEquals(await response.json(), { error: { code: "UNSUPPORTED_FORMAT", message: "a BMP" } });
});

Deno.test("errors: HttpError keeps its headers; anything else is a 500 without details", async () => {
  const overloaded = errorResponse(
    new HttpError(503, "OVERLOADED", "busy", { "retry-after": "2" }),
  );
  assertEquals([overloaded.status, overloaded.headers.get("retry-after")], [503, "2"]);
  await overloaded.body?.cancel();
  const log = console.error;
  const logged: unknown[] = [];
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    const response = errorResponse(new Error("secret internals at /srv/x"));
    assertStrictEquals(response.status, 500);
    const body = await response.json();
    assertStrictEquals(body.error.code, "INTERNAL");
    assertStrictEquals(JSON.stringify(body).includes("secret"), false);
    assertStrictEquals(logged.length, 1);
  } finally {
    console.error = log;
  }
});

Deno.test("errors: a broken or slow body is logged in one line, without a stack", async () => {
  const warn = console.warn;
  const logged: string[] = [];
  console.warn = (...args: unknown[]) => logged.push(args.join(" "));
  try {
    for (
      const [status, code] of [[400, "BAD_BODY"], [408, "BODY_TIMEOUT"], [413, "BODY_TOO_LARGE"]]
    ) {
      const response = errorResponse(new HttpError(+status, `${code}`, "why"), "POST /v1/classify");
      assertStrictEquals(response.status, status);
      await response.body?.cancel();
    }
    // the 413 is the client's business, not the operator's: not logged
    assertEquals(logged, [
      "edge: POST /v1/classify: 400 BAD_BODY: why",
      "edge: POST /v1/classify: 408 BODY_TIMEOUT: why",
    ]);
  } finally {
    console.warn = warn;
  }
});
