import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import { assertAllClose, assertEquals, assertThrows } from "../_assert.ts";
import { initBackend } from "../../src/backend/wasm.ts";
import {
  minSourceSide,
  preprocessPixels,
  preprocessTensor,
  sourceRect,
} from "../../src/image/preprocess.ts";
import type { Pixels } from "../../src/image/pixels.ts";

function randomPixels(width: number, height: number, channels: 1 | 3 | 4, seed = 7): Pixels {
  const data = new Uint8Array(width * height * channels);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = s >>> 24;
  }
  return { data, width, height, channels };
}

function rgbOf(p: Pixels): Int32Array {
  const out = new Int32Array(p.width * p.height * 3);
  for (let i = 0; i < p.width * p.height; i++) {
    for (let c = 0; c < 3; c++) {
      out[i * 3 + c] = p.data[i * p.channels + (p.channels === 1 ? 0 : c)];
    }
  }
  return out;
}

Deno.test("pixel resizing matches tf.image.resizeBilinear + x/127.5-1 within 1e-4 (every resize mode)", async () => {
  await initBackend();
  for (
    const [w, h, ch] of [[640, 480, 4], [333, 500, 3], [7, 3, 1], [224, 224, 3], [
      100,
      60,
      3,
    ]] as const
  ) {
    const pixels = randomPixels(w, h, ch);
    const rgb = tf.tensor3d(rgbOf(pixels), [h, w, 3]);
    for (const mode of ["stretch", "center-crop", "center-crop-87.5"] as const) {
      for (const size of [224, 128]) {
        const ours = preprocessPixels(pixels, size, mode);
        const theirs = preprocessTensor(rgb, size, mode);
        assertEquals(theirs.shape, [1, size, size, 3]);
        assertAllClose(ours, theirs.dataSync(), 1e-4, `${w}x${h}x${ch} ${mode} ${size}`);
        theirs.dispose();
      }
    }
    rgb.dispose();
  }
});

Deno.test("values are scaled to [-1, 1] and written at an offset into a batch buffer", () => {
  const white = {
    data: new Uint8Array(4 * 4 * 3).fill(255),
    width: 4,
    height: 4,
    channels: 3,
  } as const;
  const black = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3 } as const;
  const batch = new Float32Array(2 * 8 * 8 * 3);
  preprocessPixels(white, 8, "stretch", batch, 0);
  preprocessPixels(black, 8, "stretch", batch, 8 * 8 * 3);
  assertEquals(new Set(batch.subarray(0, 192)), new Set([1]));
  assertEquals(new Set(batch.subarray(192)), new Set([-1]));
});

Deno.test("center-crop takes the centred square; stretch takes everything", () => {
  assertEquals(sourceRect(640, 480, "center-crop"), { x: 80, y: 0, width: 480, height: 480 });
  assertEquals(sourceRect(333, 500, "center-crop"), { x: 0, y: 83, width: 333, height: 333 });
  assertEquals(sourceRect(640, 480, "stretch"), { x: 0, y: 0, width: 640, height: 480 });
  // A left half black, right half white image: the crop of a wide image keeps both halves
  // equally, so the output's left column is black and its right column white.
  const w = 8, h = 2;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = w / 2; x < w; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  const out = preprocessPixels({ data, width: w, height: h, channels: 3 }, 2, "center-crop");
  assertEquals([...out], [-1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1]);
  // deno-lint-ignore no-explicit-any
  assertThrows(() => sourceRect(4, 4, "fit" as any), RangeError, "center-crop");
});

Deno.test("center-crop-87.5 takes the centre 224/256 of the short side (ImageNet's 256 -> 224)", () => {
  assertEquals(sourceRect(256, 256, "center-crop-87.5"), { x: 16, y: 16, width: 224, height: 224 });
  // 500x375: the short side 375 -> a 328 square (375 * 7 / 8 = 328.1), centred.
  assertEquals(sourceRect(500, 375, "center-crop-87.5"), { x: 86, y: 23, width: 328, height: 328 });
  assertEquals(sourceRect(1920, 1080, "center-crop-87.5"), {
    x: 487,
    y: 67,
    width: 945,
    height: 945,
  });
  // A decoder may shrink the image only so far that the crop still covers the input.
  assertEquals(minSourceSide(224, "center-crop-87.5"), 256);
  assertEquals(minSourceSide(224, "center-crop"), 224);
  assertEquals(minSourceSide(224, "stretch"), 224);
});
