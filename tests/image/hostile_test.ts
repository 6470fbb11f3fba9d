/**
 * Untrusted images through the model (issue 8): each hostile file, generated on the fly, gets its
 * typed error (or its correct label) and the same model then still classifies the sample photo;
 * EXIF orientation on both JPEG paths for all 8 values, and the option that turns it off; the
 * pixel budget and the DCT-scaled exception for a huge JPEG.
 *
 * @module
 */
import jpegJs from "npm:jpeg-js@0.4.4";
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { liveTensors } from "../_tensors.ts";
import { ImageDecodeError, loadMobileNet, type MobileNet } from "../../mod.ts";
import { orientPixels } from "../../src/image/orientation.ts";
import { decodeJpeg, JpegError } from "../../src/image/jpeg/mod.ts";
import type { Pixels } from "../../src/image/pixels.ts";
import { upscaledJpeg, withExifOrientation, withSofSize } from "./_jpeg_dc.ts";
import { claimingGif, encodeGif } from "./_gif.ts";
import { encodePngPixels } from "./_png_encode.ts";
import { encodeTiff } from "./_tiff.ts";
import { jpegClaiming, pngClaiming, tiffClaiming, tiffLzwShort } from "./_hostile.ts";

const SAMPLE = await Deno.readFile(new URL("../../samples/african_elephant.jpg", import.meta.url));
const ELEPHANT = "African elephant";

/** The sample photo's pixels, RGB (jpeg-js, independent of our decoders). */
function samplePixels(): Pixels {
  const { data, width, height } = jpegJs.decode(SAMPLE, { useTArray: true });
  const rgb = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) rgb.set(data.subarray(p * 4, p * 4 + 3), p * 3);
  return { data: rgb, width, height, channels: 3 };
}

function toJpeg(pixels: Pixels): Uint8Array {
  const rgba = new Uint8Array(pixels.width * pixels.height * 4).fill(255);
  for (let p = 0; p < pixels.width * pixels.height; p++) {
    rgba.set(pixels.data.subarray(p * 3, p * 3 + 3), p * 4);
  }
  return new Uint8Array(
    jpegJs.encode({ data: rgba, width: pixels.width, height: pixels.height }, 90).data,
  );
}

async function top1(model: MobileNet, bytes: Uint8Array) {
  return (await model.classify(bytes, { topK: 1 }))[0];
}

async function withModel(
  options: Parameters<typeof loadMobileNet>[0],
  fn: (m: MobileNet) => Promise<void>,
) {
  const model = await loadMobileNet(options);
  try {
    await fn(model);
  } finally {
    await model.dispose();
  }
}

/** The orientation whose transform undoes `o`'s (6 and 8 are each other's; the rest undo themselves). */
const inverse = (o: number) => (o === 6 ? 8 : o === 8 ? 6 : o);

Deno.test("hostile files get typed errors, fast, and the same model keeps classifying", async () => {
  await withModel({}, async (model) => {
    const truncatedProgressive = await Deno.readFile(
      new URL("./jpeg_fixtures/jpeg_progressive.jpg", import.meta.url),
    );
    const cases: [string, Uint8Array, string][] = [
      ["JPEG SOF 20000x20000 on a 2x2 image", jpegClaiming(20000, 20000), "TRUNCATED"],
      ["JPEG SOF 16384x16384 on a 2x2 image", jpegClaiming(16384, 16384), "TRUNCATED"],
      ["JPEG SOF 3000x3000 on a 2x2 image", jpegClaiming(3000, 3000), "TRUNCATED"],
      ["progressive JPEG cut in half", truncatedProgressive.subarray(0, 9000), "TRUNCATED"],
      ["PNG header 16000x16000", pngClaiming(16000, 16000), "TOO_LARGE"],
      ["PNG header 8000x6250 (50 MP)", pngClaiming(8000, 6250), "TOO_LARGE"],
      ["PNG header 3000x2000, one row of data", pngClaiming(3000, 2000), "TRUNCATED"],
      ["GIF 65535x65535 in 35 bytes", claimingGif(65535, 65535), "TOO_LARGE"],
      ["GIF 2000x2000 in 35 bytes", claimingGif(2000, 2000), "TRUNCATED"],
      ["TIFF header 65535x65535", tiffClaiming(65535, 65535), "TOO_LARGE"],
      ["TIFF LZW header 3000x2000 on 4x4 data", tiffLzwShort(3000, 2000), "TRUNCATED"],
    ];
    const before = liveTensors();
    for (const [name, bytes, code] of cases) {
      const error = await assertRejects(() => model.classify(bytes), ImageDecodeError);
      assertEquals(error.code, code, `${name}: ${error.message}`);
      assertEquals((await top1(model, SAMPLE)).label, ELEPHANT, `after ${name}`);
    }
    assertEquals(liveTensors(), before, "no tensors left behind");
  });
});

Deno.test("the sample photo as PNG, TIFF (LZW, tiles) and GIF classifies as it does as JPEG", async () => {
  await withModel({}, async (model) => {
    const px = samplePixels();
    const files: [string, Uint8Array][] = [
      ["PNG", encodePngPixels(px.data as Uint8Array, px.width, px.height, 3)],
      [
        "TIFF LZW",
        encodeTiff(px.data as Uint8Array, px.width, px.height, 3, {
          compression: "lzw",
          predictor: true,
        }),
      ],
      [
        "TIFF deflate tiles",
        encodeTiff(px.data as Uint8Array, px.width, px.height, 3, {
          compression: "deflate",
          tile: 64,
        }),
      ],
      ["GIF (3-3-2 palette)", encodeGif(px.data as Uint8Array, px.width, px.height)],
    ];
    for (const [name, bytes] of files) {
      const predictions = await model.classify(bytes, { topK: 3 });
      assertEquals(predictions[0].label, ELEPHANT, `${name}: ${JSON.stringify(predictions)}`);
    }
  });
});

Deno.test("a 108 MP JPEG decodes at 1/8 within the budget; the fallback gets the budget too", async () => {
  const px = samplePixels();
  const huge = upscaledJpeg(px, 12000, 9000); // 1/8 decode: 1500x1125
  await withModel({ maxPixels: 2_000_000 }, async (model) => {
    const result = await model.classifyDetailed(huge, { topK: 1 });
    assertEquals(result.predictions[0].label, ELEPHANT);
    assertEquals([result.width, result.height], [1500, 1125]);
  });
  await withModel({ maxPixels: 1_000_000 }, async (model) => {
    const error = await assertRejects(() => model.classify(huge), ImageDecodeError);
    assertEquals(error.code, "TOO_LARGE");
    // A JPEG libjpeg refuses (arithmetic coding) goes to the full-size fallback: budget first.
    const arithmetic = await Deno.readFile(
      new URL("./jpeg_fixtures/jpeg_arithmetic.jpg", import.meta.url),
    );
    const big = withSofSize(arithmetic, 2000, 1000);
    const refused = await assertRejects(() => model.classify(big), ImageDecodeError);
    assertEquals(refused.code, "TOO_LARGE", refused.message);
    assertEquals((await top1(model, SAMPLE)).label, ELEPHANT);
  });
});

Deno.test("EXIF orientation: all 8 values give the upright photo's top-1, on both JPEG paths", async () => {
  const upright = samplePixels();
  await withModel({}, async (model) => {
    const reference = await top1(model, toJpeg(upright));
    assertEquals(reference.label, ELEPHANT);
    for (let o = 1; o <= 8; o++) {
      const stored = orientPixels(upright, inverse(o)); // what a camera holding it that way stores
      const jpeg = withExifOrientation(toJpeg(stored), o);
      const result = await model.classifyDetailed(jpeg, { topK: 1 });
      assertEquals(result.predictions[0].label, ELEPHANT, `orientation ${o}`);
      assertEquals([result.width, result.height], [500, 375], `orientation ${o}: upright size`);
      const gap = Math.abs(result.predictions[0].probability - reference.probability);
      assert(gap < 0.1, `orientation ${o}: probability ${result.predictions[0].probability}`);
    }
    // The fallback path: stray bytes before the SOS marker make the fast path refuse it as
    // CORRUPT, and imagescript's lenient decoder takes over; it turns the pixels too.
    const jpeg = withExifOrientation(toJpeg(orientPixels(upright, 8)), 6);
    const sos = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xda);
    const stray = new Uint8Array([...jpeg.subarray(0, sos), 1, 2, 3, ...jpeg.subarray(sos)]);
    await assertRejects(() => decodeJpeg(stray), JpegError); // so the fallback decodes it
    const fallback = await model.classifyDetailed(stray, { topK: 1 });
    assertEquals([fallback.width, fallback.height], [500, 375], "fallback: upright size");
    assertEquals(fallback.predictions[0].label, ELEPHANT, "fallback");
  });
});

Deno.test("orientation: 'ignore' classifies the pixels as stored", async () => {
  const stored = orientPixels(samplePixels(), 8); // a quarter turn: tag 6 would undo it
  const bare = toJpeg(stored);
  const tagged = withExifOrientation(bare, 6);
  await withModel({ orientation: "ignore" }, async (model) => {
    const ignored = await model.classifyDetailed(tagged, { topK: 1 });
    const plain = await model.classifyDetailed(bare, { topK: 1 });
    assertEquals([ignored.width, ignored.height], [375, 500]);
    assertEquals(ignored.predictions, plain.predictions);
  });
  await assertRejects(
    // deno-lint-ignore no-explicit-any
    () => loadMobileNet({ orientation: "sideways" as any }),
    RangeError,
  );
  await assertRejects(() => loadMobileNet({ maxPixels: 0 }), RangeError);
});
