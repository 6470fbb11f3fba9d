import { assert, assertEquals } from "../_assert.ts";
import { Redactor, redactUrl } from "../../src/ingest/redact.ts";

Deno.test("redactUrl drops userinfo and masks secret query values", () => {
  assertEquals(
    redactUrl("http://admin:s3cret@192.0.2.10/ISAPI/Streaming/channels/101/picture"),
    "http://192.0.2.10/ISAPI/Streaming/channels/101/picture",
  );
  assertEquals(
    redactUrl("http://ha.local:8123/api/camera_proxy/camera.door?token=abcdef&x=1"),
    "http://ha.local:8123/api/camera_proxy/camera.door?token=***&x=1",
  );
  assertEquals(redactUrl("mqtt://u:p@broker:1883/frigate/#"), "mqtt://broker:1883/frigate/#");
});

Deno.test("Redactor masks every known secret and any userinfo in free text", () => {
  const r = new Redactor();
  r.add("Circle of Life");
  r.add("tok/en+1");
  r.add("");
  const text = r.redact(
    "fetch http://Mufasa:Circle%20of%20Life@cam/ failed; token tok/en+1 (tok%2Fen%2B1) and Circle of Life",
  );
  assert(!text.includes("Circle"), text);
  assert(!text.includes("tok/en"), text);
  assert(!text.includes("tok%2F"), text);
  assert(!text.includes("Mufasa"), text);
  assertEquals(r.redact("nothing secret"), "nothing secret");
});
