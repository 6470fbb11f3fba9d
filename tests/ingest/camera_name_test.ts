import { assertEquals } from "../_assert.ts";
import { cameraId, cameraName } from "../../src/ingest/camera_name.ts";

Deno.test("camera names: Frigate's camera from its topic, host and path for HTTP; ids are safe topic and entity names", () => {
  const frigate = cameraName("mqtt://127.0.0.1:1883/frigate/front_door/person/snapshot");
  assertEquals(frigate, "front_door");
  assertEquals(cameraId(frigate), "front_door");
  assertEquals(cameraName("mqtt://broker:1883/cams/garage"), "cams/garage");
  assertEquals(cameraName("http://192.168.1.50:81/stream?fps=3"), "192.168.1.50:81/stream");
  assertEquals(cameraId("192.168.1.50:81/stream"), "192_168_1_50_81_stream");
  assertEquals(cameraName("https://cam.local/"), "cam.local");
  assertEquals(cameraName("stdin"), "stdin");
  assertEquals(cameraId("Garage door"), "garage_door");
  assertEquals(cameraId("///"), "camera");
});
