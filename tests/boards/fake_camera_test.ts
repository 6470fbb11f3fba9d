/** The fake camera of the arm64 check: the sample JPEG at /snap.jpg on loopback, 404 elsewhere. */
import { assertEquals, assertMatch } from "../_assert.ts";
import { SAMPLE_JPEG, startFakeCamera } from "../../scripts/fake_camera.ts";
import { loadMobileNet } from "../../mod.ts";

Deno.test("fake camera serves the sample photo byte for byte, and the model classifies it", async () => {
  const camera = await startFakeCamera();
  try {
    assertMatch(camera.url, /^http:\/\/127\.0\.0\.1:\d+\/snap\.jpg$/);
    const res = await fetch(camera.url);
    assertEquals(res.headers.get("content-type"), "image/jpeg");
    const bytes = new Uint8Array(await res.arrayBuffer());
    assertEquals(bytes, await Deno.readFile(SAMPLE_JPEG));
    const missing = await fetch(new URL("/other", camera.url));
    await missing.body?.cancel();
    assertEquals(missing.status, 404);
    assertEquals(camera.served, 1);
    const model = await loadMobileNet({ model: "0.25_224", threads: 1 });
    try {
      const [top] = await model.classify(bytes, { topK: 1 });
      assertEquals(top.index, 975); // 0.25/224 sees the lake first (the 0.75 model: elephant)
    } finally {
      await model.dispose();
    }
  } finally {
    await camera.close();
  }
});
