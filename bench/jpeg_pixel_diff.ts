/**
 * Measurement script (not a test): how far the fast JPEG path moves the model input away from the
 * reference preprocessing. For each JPEG in a folder it builds the 224x224 RGB input twice:
 *
 * - reference: jpeg-js 0.4.4 full decode, then legacy bilinear resize (TF.js `resizeBilinear`,
 *   alignCorners=false, halfPixelCenters=false), exactly as the model references were made;
 * - fast path: `decodeJpeg` with the DCT scale chosen for min 224x224, then the same resize;
 *
 * and prints the mean and max absolute difference in [0, 255] (plus the same for a full-size
 * libjpeg-turbo decode, to separate decoder differences from DCT scaling). It also checks its
 * resize against the stored reference input tensors in `tests/fixtures/inputs_224/`.
 *
 * ```sh
 * deno run --allow-read --lock=deno.dev.lock bench/jpeg_pixel_diff.ts [folder ...]
 * ```
 *
 * @module
 */
import jpegJs from "npm:jpeg-js@0.4.4";
import { decodeJpeg } from "../src/image/jpeg/mod.ts";

const SIZE = 224;

/**
 * Legacy TF bilinear resize of an HWC uint8 image (src = dst * in / out, no half-pixel offset),
 * computed like tfjs-backend-cpu: float64 arithmetic, result stored as float32.
 */
export function resizeBilinearLegacy(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth = SIZE,
  outHeight = SIZE,
): Float32Array {
  const out = new Float32Array(outWidth * outHeight * 3);
  const hScale = height / outHeight;
  const wScale = width / outWidth;
  let o = 0;
  for (let r = 0; r < outHeight; r++) {
    const fy = hScale * r;
    const y0 = Math.floor(fy);
    const y1 = Math.min(height - 1, Math.ceil(fy));
    const dy = fy - y0;
    for (let c = 0; c < outWidth; c++) {
      const fx = wScale * c;
      const x0 = Math.floor(fx);
      const x1 = Math.min(width - 1, Math.ceil(fx));
      const dx = fx - x0;
      for (let d = 0; d < 3; d++) {
        const tl = data[(y0 * width + x0) * channels + d];
        const tr = data[(y0 * width + x1) * channels + d];
        const bl = data[(y1 * width + x0) * channels + d];
        const br = data[(y1 * width + x1) * channels + d];
        const top = tl + (tr - tl) * dx;
        const bottom = bl + (br - bl) * dx;
        out[o++] = top + (bottom - top) * dy;
      }
    }
  }
  return out;
}

/** Mean and max absolute difference of two equally long arrays. */
function diff(a: Float32Array, b: Float32Array): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    sum += d;
    if (d > max) max = d;
  }
  return { mean: sum / a.length, max };
}

function referenceInput(bytes: Uint8Array): Float32Array {
  const image = jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: false });
  return resizeBilinearLegacy(image.data, image.width, image.height, 3);
}

async function fastInput(bytes: Uint8Array, scaled: boolean) {
  const image = await decodeJpeg(bytes, scaled ? { minWidth: SIZE, minHeight: SIZE } : {});
  return {
    input: resizeBilinearLegacy(image.data, image.width, image.height, image.channels),
    image,
  };
}

if (import.meta.main) {
  const root = new URL("../tests/fixtures/", import.meta.url);
  // 1. the resize reproduces the stored reference tensors (x / 127.5 - 1)
  for await (const entry of Deno.readDir(new URL("inputs_224/", root))) {
    const name = entry.name.replace(/\.f32$/, "");
    const file = [...Deno.readDirSync(new URL("images/", root))]
      .map((e) => e.name)
      .find((n) => n.replace(/\.[^.]+$/, "") === name);
    if (!file) continue;
    const stored = new Float32Array(
      (await Deno.readFile(new URL(`inputs_224/${entry.name}`, root))).buffer,
    );
    const input = referenceInput(await Deno.readFile(new URL(`images/${file}`, root)));
    const normalized = input.map((v) => Math.fround(Math.fround(v / 127.5) - 1));
    console.log(`reference check ${name}: max |ours - stored| = ${diff(normalized, stored).max}`);
  }
  // 2. the difference of the fast path from the reference, per image and overall
  const folders = Deno.args.length > 0 ? Deno.args : [new URL("images/", root).pathname];
  const rows: string[] = [];
  let scaledSum = 0;
  let scaledMax = 0;
  let fullSum = 0;
  let fullMax = 0;
  let count = 0;
  for (const folder of folders) {
    const names = [...Deno.readDirSync(folder)]
      .map((e) => e.name)
      .filter((n) => /\.jpe?g$/i.test(n))
      .sort();
    for (const name of names) {
      const bytes = await Deno.readFile(`${folder.replace(/\/$/, "")}/${name}`);
      const reference = referenceInput(bytes);
      const scaled = await fastInput(bytes, true);
      const full = await fastInput(bytes, false);
      const s = diff(scaled.input, reference);
      const f = diff(full.input, reference);
      scaledSum += s.mean;
      fullSum += f.mean;
      scaledMax = Math.max(scaledMax, s.max);
      fullMax = Math.max(fullMax, f.max);
      count++;
      const { sourceWidth, sourceHeight, width, height, scale } = scaled.image;
      rows.push(
        `| ${name} | ${sourceWidth}x${sourceHeight} | ${scale} | ${width}x${height} | ` +
          `${s.mean.toFixed(3)} | ${s.max.toFixed(1)} | ${f.mean.toFixed(3)} | ${
            f.max.toFixed(1)
          } |`,
      );
    }
  }
  console.log(
    "\n| image | source | scale | decoded | scaled path mean | max | full libjpeg-turbo mean | max |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const row of rows) console.log(row);
  console.log(
    `\n${count} images: scaled path mean of means ${(scaledSum / count).toFixed(3)}, ` +
      `max ${scaledMax.toFixed(1)}; full-size libjpeg-turbo mean of means ` +
      `${(fullSum / count).toFixed(3)}, max ${fullMax.toFixed(1)} (in [0, 255])`,
  );
}
