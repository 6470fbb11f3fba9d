/**
 * Tests of the fast JPEG path `src/image/jpeg/`: decoded sizes and pixels against imagescript's
 * WASM JPEG codec, DCT scale selection, the marker reader (orientation, progressive, restart
 * markers, Adobe), grey and CMYK input, and clear errors for empty, garbage, truncated, corrupt
 * and unsupported input.
 *
 * @module
 */
import assert from "../_assert.ts";
import imagescriptJpeg from "npm:imagescript@1.3.1/wasm/node/jpeg.js";
import {
  chooseScale,
  decodeJpeg,
  isJpeg,
  jpegEnd,
  JpegError,
  type JpegErrorCode,
  jpegSegments,
  readJpegInfo,
  scaledSize,
} from "../../src/image/jpeg/mod.ts";
import {
  JPEG_TURBO_WASM_BASE64,
  JPEG_TURBO_WASM_BYTES,
  JPEG_TURBO_WASM_SHA256,
} from "../../src/image/jpeg/turbo_wasm.ts";

const PHOTOS = new URL("../fixtures/images/", import.meta.url);
const SPECIAL = new URL("./jpeg_fixtures/", import.meta.url);

const photo = (name: string) => Deno.readFile(new URL(name, PHOTOS));
const special = (name: string) => Deno.readFile(new URL(name, SPECIAL));

/** The part of imagescript's JPEG codec module used here (the package ships no types for it). */
interface ImagescriptJpegCodec {
  init(): Promise<{
    decode(
      bytes: Uint8Array,
    ): { width: number; height: number; format: number; buffer: Uint8Array };
  }>;
}

/** imagescript's (Rust jpeg-decoder, WASM) full-size decode as RGB; grey is expanded. */
async function imagescriptRgb(bytes: Uint8Array) {
  const codec = await (imagescriptJpeg as unknown as ImagescriptJpegCodec).init();
  const { width, height, format, buffer } = codec.decode(bytes);
  const pixels = width * height;
  if (format === 1) return { width, height, data: buffer.subarray(0, pixels * 3) };
  assert.equal(format, 0, "only grey and RGB references are used");
  const data = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) data.fill(buffer[p], p * 3, p * 3 + 3);
  return { width, height, data };
}

/** Box-averages an RGB image by an integer factor (edge blocks average what they have). */
function boxDown(rgb: Uint8Array, width: number, height: number, factor: number): Float32Array {
  const w = Math.ceil(width / factor);
  const h = Math.ceil(height / factor);
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (let yy = y * factor; yy < Math.min(height, y * factor + factor); yy++) {
          for (let xx = x * factor; xx < Math.min(width, x * factor + factor); xx++) {
            sum += rgb[(yy * width + xx) * 3 + c];
            n++;
          }
        }
        out[(y * w + x) * 3 + c] = sum / n;
      }
    }
  }
  return out;
}

function meanAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

async function assertJpegError(
  promise: Promise<unknown> | (() => unknown),
  code: JpegErrorCode,
  message?: RegExp,
) {
  const run = typeof promise === "function" ? async () => await promise() : () => promise;
  await assert.rejects(run, (error: unknown) => {
    assert.ok(error instanceof JpegError, `expected JpegError, got ${error}`);
    assert.ok(error instanceof Error);
    assert.equal(error.name, "JpegError");
    assert.equal(error.code, code, error.message);
    if (message) assert.match(error.message, message);
    return true;
  });
}

Deno.test("embedded WASM is the pinned libjpeg-turbo build", async () => {
  const text = atob(JPEG_TURBO_WASM_BASE64.replace(/\s+/g, ""));
  const bytes = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
  assert.equal(bytes.length, JPEG_TURBO_WASM_BYTES);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex, JPEG_TURBO_WASM_SHA256);
});

Deno.test("chooseScale picks the largest power-of-two reduction that keeps both minimums", () => {
  assert.equal(chooseScale(1920, 1080, 224, 224), 0.25); // 480x270; 1/8 would be 240x135
  assert.equal(chooseScale(3840, 2160, 224, 224), 0.125); // 480x270
  assert.equal(chooseScale(1280, 720, 224, 224), 0.5); // 640x360; 1/4 would be 320x180
  assert.equal(chooseScale(640, 480, 224, 224), 0.5); // 320x240
  assert.equal(chooseScale(500, 375, 224, 224), 1); // 1/2 would be 250x188
  assert.equal(chooseScale(224, 224, 224, 224), 1);
  assert.equal(chooseScale(100, 80, 224, 224), 1); // already smaller: full size
  assert.equal(chooseScale(1080, 1920, 224, 224), 0.25); // portrait
  assert.equal(chooseScale(1920, 1080, 128, 128), 0.125); // 240x135
  assert.equal(chooseScale(1920, 1080, 0, 0), 0.125);
  assert.equal(chooseScale(1920, 1080, 200, 0), 0.125); // only the width constrains: 240
  assert.equal(chooseScale(1920, 1080, 300, 0), 0.25); // 1/8 would be 240 wide
  assert.equal(chooseScale(1920, 1080, 0, 300), 0.5); // 1/4 gives height 270 < 300
  // libjpeg rounds scaled sizes up: ceil(1785 / 8) = 224, ceil(1784 / 8) = 223
  assert.equal(chooseScale(1785, 1785, 224, 224), 0.125);
  assert.equal(chooseScale(1784, 1784, 224, 224), 0.25);
  assert.equal(scaledSize(1785, 0.125), 224);
  assert.equal(scaledSize(333, 0.25), 84);
  assert.equal(scaledSize(251, 0.5), 126);
  assert.equal(scaledSize(500, 1), 500);
});

Deno.test("full-size decode matches imagescript's decode of the same photos", async () => {
  for (
    const name of [
      "grace_hopper.jpg",
      "dog.jpg",
      "n01440764_tench.JPEG",
      "n03908714_pencil_sharpener.JPEG", // grey JPEG
      "n03825788_nipple.JPEG", // 106x150
    ]
  ) {
    const bytes = await photo(name);
    const ours = await decodeJpeg(bytes);
    const reference = await imagescriptRgb(bytes);
    assert.equal(ours.width, reference.width, name);
    assert.equal(ours.height, reference.height, name);
    assert.equal(ours.channels, 3);
    assert.equal(ours.scale, 1);
    assert.equal(ours.sourceWidth, ours.width);
    assert.equal(ours.sourceHeight, ours.height);
    assert.equal(ours.data.length, ours.width * ours.height * 3);
    const diff = meanAbsDiff(ours.data, reference.data);
    assert.ok(diff < 1.5, `${name}: mean |ours - imagescript| = ${diff}`);
  }
});

Deno.test("scaled decode for a 224x224 model: sizes and pixels close to a box-filtered full decode", async () => {
  const cases: [string, number, number, number][] = [
    ["dog.jpg", 0.25, 387, 304], // 1546x1213
    ["n02219486_ant.JPEG", 0.5, 400, 300], // 799x599
    ["n03759954_microphone.JPEG", 0.5, 351, 547], // 702x1094 portrait
    ["grace_hopper.jpg", 0.5, 259, 303], // 517x606
    ["n01440764_tench.JPEG", 1, 500, 375], // 1/2 would be 250x188
  ];
  for (const [name, scale, width, height] of cases) {
    const bytes = await photo(name);
    const ours = await decodeJpeg(bytes, { minWidth: 224, minHeight: 224 });
    assert.equal(ours.scale, scale, name);
    assert.equal(ours.width, width, name);
    assert.equal(ours.height, height, name);
    assert.ok(ours.width >= 224 && ours.height >= 224);
    assert.equal(ours.data.length, width * height * 3);
    const reference = await imagescriptRgb(bytes);
    assert.equal(ours.sourceWidth, reference.width);
    assert.equal(ours.sourceHeight, reference.height);
    const boxed = boxDown(reference.data, reference.width, reference.height, 1 / scale);
    const diff = meanAbsDiff(ours.data, boxed);
    assert.ok(diff < 2, `${name}: mean |ours - box(imagescript)| = ${diff}`);
  }
});

Deno.test("every scale of a baseline, progressive, 4:4:4, 4:2:2 + restart and odd-sized JPEG", async () => {
  for (
    const name of [
      "jpeg_baseline_420.jpg",
      "jpeg_progressive.jpg",
      "jpeg_444.jpg",
      "jpeg_422_restart.jpg",
      "jpeg_odd_progressive.jpg",
    ]
  ) {
    const bytes = await special(name);
    const reference = await imagescriptRgb(bytes);
    for (const factor of [1, 2, 4, 8]) {
      const minWidth = Math.ceil(reference.width / factor);
      const minHeight = Math.ceil(reference.height / factor);
      const ours = await decodeJpeg(bytes, { minWidth, minHeight });
      assert.equal(ours.scale, 1 / factor, `${name} 1/${factor}`);
      assert.equal(ours.width, minWidth);
      assert.equal(ours.height, minHeight);
      const boxed = boxDown(reference.data, reference.width, reference.height, factor);
      const diff = meanAbsDiff(ours.data, boxed);
      assert.ok(diff < 2.5, `${name} 1/${factor}: mean |ours - box(imagescript)| = ${diff}`);
    }
  }
});

Deno.test("progressive and baseline encodings of the same pixels decode alike", async () => {
  const baseline = await decodeJpeg(await special("jpeg_baseline_420.jpg"));
  const progressive = await decodeJpeg(await special("jpeg_progressive.jpg"));
  assert.ok(meanAbsDiff(baseline.data, progressive.data) < 0.5);
});

Deno.test("readJpegInfo reports size, components, coding, scans, restarts and orientation", async () => {
  const baseline = readJpegInfo(await special("jpeg_baseline_420.jpg"));
  assert.equal(baseline.width, 320);
  assert.equal(baseline.height, 240);
  assert.equal(baseline.components, 3);
  assert.deepEqual(baseline.sampling, [[2, 2], [1, 1], [1, 1]]);
  assert.equal(baseline.coding, "baseline");
  assert.equal(baseline.scans, 1);
  assert.equal(baseline.restartInterval, 0);
  assert.equal(baseline.jfif, true);
  assert.equal(baseline.adobeTransform, undefined);
  assert.equal(baseline.orientation, 1);

  const progressive = readJpegInfo(await special("jpeg_progressive.jpg"));
  assert.equal(progressive.coding, "progressive");
  assert.ok(progressive.scans > 1);

  const restart = readJpegInfo(await special("jpeg_422_restart.jpg"));
  assert.equal(restart.restartInterval, 5);
  assert.deepEqual(restart.sampling, [[2, 1], [1, 1], [1, 1]]);

  const gray = readJpegInfo(await special("jpeg_gray.jpg"));
  assert.equal(gray.components, 1);

  const cmyk = readJpegInfo(await special("jpeg_cmyk.jpg"));
  assert.equal(cmyk.components, 4);
  assert.equal(cmyk.adobeTransform, 2); // YCCK

  const odd = readJpegInfo(await special("jpeg_odd_progressive.jpg"));
  assert.equal(odd.width, 333);
  assert.equal(odd.height, 251);

  const bytes = await photo("dog.jpg"); // EXIF (Kodak), orientation 1
  const dog = readJpegInfo(bytes);
  assert.equal(dog.width, 1546);
  assert.equal(dog.height, 1213);
  assert.equal(dog.orientation, 1);
  assert.equal(dog.end, bytes.length);
  assert.equal(isJpeg(bytes), true);
  assert.equal(isJpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47])), false);
});

Deno.test("EXIF orientation is reported, pixels are not rotated", async () => {
  const bytes = await special("jpeg_orientation6.jpg");
  assert.equal(readJpegInfo(bytes).orientation, 6);
  const decoded = await decodeJpeg(bytes);
  assert.equal(decoded.orientation, 6);
  assert.equal(decoded.width, 320);
  assert.equal(decoded.height, 240);
  const plain = await decodeJpeg(await special("jpeg_baseline_420.jpg"));
  assert.deepEqual(decoded.data, plain.data);
});

Deno.test("grey JPEGs come out as RGB with R = G = B", async () => {
  for (const scaled of [false, true]) {
    const decoded = await decodeJpeg(
      await special("jpeg_gray.jpg"),
      scaled ? { minWidth: 80, minHeight: 60 } : {},
    );
    assert.equal(decoded.channels, 3);
    assert.equal(decoded.data.length, decoded.width * decoded.height * 3);
    assert.equal(decoded.info.components, 1);
    for (let i = 0; i < decoded.data.length; i += 3) {
      assert.ok(decoded.data[i] === decoded.data[i + 1] && decoded.data[i] === decoded.data[i + 2]);
    }
  }
  // and the grey level is the luma of the colour version
  const gray = await decodeJpeg(await special("jpeg_gray.jpg"));
  const color = await decodeJpeg(await special("jpeg_baseline_420.jpg"));
  const luma = new Float32Array(gray.data.length);
  for (let i = 0; i < luma.length; i += 3) {
    const y = 0.299 * color.data[i] + 0.587 * color.data[i + 1] + 0.114 * color.data[i + 2];
    luma.fill(y, i, i + 3);
  }
  assert.ok(meanAbsDiff(gray.data, luma) < 2);
});

Deno.test("CMYK (Adobe YCCK) JPEGs are converted to RGB close to the RGB encoding", async () => {
  const cmyk = await decodeJpeg(await special("jpeg_cmyk.jpg"));
  const rgb = await decodeJpeg(await special("jpeg_baseline_420.jpg"));
  assert.equal(cmyk.channels, 3);
  assert.equal(cmyk.width, 320);
  assert.equal(cmyk.height, 240);
  const diff = meanAbsDiff(cmyk.data, rgb.data);
  assert.ok(diff < 10, `mean |cmyk - rgb| = ${diff}`); // naive conversion, no ICC profile
  const scaled = await decodeJpeg(await special("jpeg_cmyk.jpg"), { minWidth: 80, minHeight: 60 });
  assert.equal(scaled.scale, 0.25);
  assert.equal(scaled.data.length, 80 * 60 * 3);
});

Deno.test("channels: 4 gives RGBA with opaque alpha and the same colours", async () => {
  const bytes = await special("jpeg_baseline_420.jpg");
  for (const name of ["jpeg_baseline_420.jpg", "jpeg_cmyk.jpg", "jpeg_gray.jpg"]) {
    const file = name === "jpeg_baseline_420.jpg" ? bytes : await special(name);
    const rgb = await decodeJpeg(file, { minWidth: 160, minHeight: 120 });
    const rgba = await decodeJpeg(file, { minWidth: 160, minHeight: 120, channels: 4 });
    assert.equal(rgba.channels, 4);
    assert.equal(rgba.data.length, rgb.width * rgb.height * 4);
    for (let p = 0; p < rgb.width * rgb.height; p++) {
      assert.equal(rgba.data[p * 4 + 3], 255);
      for (let c = 0; c < 3; c++) assert.equal(rgba.data[p * 4 + c], rgb.data[p * 3 + c], name);
    }
  }
});

Deno.test("bytes after the end-of-image marker are ignored", async () => {
  const bytes = await special("jpeg_baseline_420.jpg");
  const padded = new Uint8Array(bytes.length + 1000);
  padded.set(bytes);
  padded.fill(0xab, bytes.length);
  const plain = await decodeJpeg(bytes);
  const decoded = await decodeJpeg(padded);
  assert.deepEqual(decoded.data, plain.data);
  assert.equal(readJpegInfo(padded).end, bytes.length);
});

Deno.test("jpegEnd: the end of image by the markers, -1 until the data holds it", async () => {
  const bytes = await special("jpeg_progressive.jpg");
  assert.equal(jpegEnd(bytes), bytes.length);
  for (const length of [2, 300, bytes.length >> 1, bytes.length - 1, bytes.length - 2]) {
    assert.equal(jpegEnd(bytes.subarray(0, length)), -1, `cut at ${length}`);
  }
  // padding after EOI is left out
  const padded = new Uint8Array(bytes.length + 64).fill(0);
  padded.set(bytes);
  assert.equal(jpegEnd(padded), bytes.length);
  // an FF D9 inside a segment (an EXIF thumbnail's end) is not the image's end, nor one at the
  // very end of a cut scan: a tail check would take both for complete
  const app1 = [0xff, 0xe1, 0, 6, 0xff, 0xd8, 0xff, 0xd9];
  const withThumb = new Uint8Array([...bytes.subarray(0, 2), ...app1, ...bytes.subarray(2)]);
  assert.equal(jpegEnd(withThumb), withThumb.length);
  const cut = withThumb.subarray(0, 2 + app1.length);
  assert.equal(cut.at(-1), 0xd9);
  assert.equal(jpegEnd(cut), -1);
  // bytes that no more data can complete are refused, as the decoder would
  assert.throws(() => jpegEnd(new TextEncoder().encode("GIF89a")), JpegError);
  const broken = bytes.slice();
  broken[2] = 0x12; // no marker after SOI
  assert.throws(() => jpegEnd(broken), (e: unknown) => (e as JpegError).code === "CORRUPT");
});

Deno.test("jpegSegments: every segment once, in order, ending with EOI", async () => {
  const bytes = await special("jpeg_422_restart.jpg");
  const segments = [...jpegSegments(bytes)];
  const info = readJpegInfo(bytes);
  assert.equal(segments.at(-1)!.marker, 0xd9);
  assert.equal(segments.at(-1)!.end, info.end);
  assert.equal(segments.filter((s) => s.marker === 0xda).length, info.scans);
  assert.equal(segments.at(-1)!.scanBytes, info.scanBytes);
  for (let i = 1; i < segments.length; i++) assert.ok(segments[i].start > segments[i - 1].start);
});

Deno.test("empty and non-JPEG input fail with NOT_JPEG", async () => {
  await assertJpegError(decodeJpeg(new Uint8Array()), "NOT_JPEG", /empty/);
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  await assertJpegError(decodeJpeg(png), "NOT_JPEG");
  const garbage = new Uint8Array(4096);
  let seed = 12345;
  for (let i = 0; i < garbage.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    garbage[i] = seed >>> 24;
  }
  garbage[0] = 0x12;
  await assertJpegError(decodeJpeg(garbage), "NOT_JPEG");
  await assertJpegError(decodeJpeg(new TextEncoder().encode("hello, world")), "NOT_JPEG");
  await assertJpegError(() => readJpegInfo(new Uint8Array([0xff])), "NOT_JPEG");
});

Deno.test("truncated JPEGs fail with TRUNCATED, never half an image", async () => {
  for (const name of ["jpeg_baseline_420.jpg", "jpeg_progressive.jpg", "jpeg_422_restart.jpg"]) {
    const bytes = await special(name);
    const info = readJpegInfo(bytes);
    for (
      const length of [
        2, // SOI only
        20, // inside APP0
        300, // inside the tables
        Math.floor(bytes.length / 3), // inside a scan
        Math.floor(bytes.length * 0.9),
        bytes.length - 1, // half of the EOI marker
        bytes.length - 2, // everything but the EOI marker
      ]
    ) {
      const cut = bytes.slice(0, length);
      await assertJpegError(decodeJpeg(cut), "TRUNCATED", /truncated JPEG/);
      await assertJpegError(
        decodeJpeg(cut, { minWidth: 40, minHeight: 30 }),
        "TRUNCATED",
      );
    }
    assert.equal(info.end, bytes.length);
  }
  // a camera photo cut in the middle of its scan
  const dog = await photo("dog.jpg");
  await assertJpegError(decodeJpeg(dog.slice(0, dog.length >> 1)), "TRUNCATED", /scan 1/);
});

Deno.test("corrupt image data fails with CORRUPT and the decoder keeps working", async () => {
  const bytes = await special("jpeg_baseline_420.jpg");
  const info = readJpegInfo(bytes);
  const scanStart = 700; // well inside the entropy-coded data of this file
  assert.ok(scanStart < info.end - 1000);

  const zeroed = bytes.slice();
  zeroed.fill(0, 20000, 22000);
  await assertJpegError(decodeJpeg(zeroed), "CORRUPT");

  const strayMarker = bytes.slice();
  strayMarker[20000] = 0xff;
  strayMarker[20001] = 0xd3; // a restart marker where none belongs
  await assertJpegError(decodeJpeg(strayMarker), "CORRUPT");

  const soiAgain = bytes.slice();
  soiAgain[2] = 0xff;
  soiAgain[3] = 0xd8;
  await assertJpegError(decodeJpeg(soiAgain), "CORRUPT");

  await assertJpegError(
    decodeJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])),
    "CORRUPT",
    /before a frame header/,
  );

  // a quantisation table that is never defined: libjpeg's fatal error path (error_exit)
  const sof = findMarker(bytes, 0xc0);
  const badTable = bytes.slice();
  badTable[sof + 4 + 6 + 2] = 3; // Tq of the first component
  await assertJpegError(decodeJpeg(badTable), "CORRUPT");

  const good = await decodeJpeg(bytes);
  assert.equal(good.width, 320);
  const again = await decodeJpeg(bytes);
  assert.deepEqual(again.data, good.data);
});

Deno.test("unsupported JPEG kinds fail with UNSUPPORTED", async () => {
  await assertJpegError(
    decodeJpeg(await special("jpeg_arithmetic.jpg")),
    "UNSUPPORTED",
    /arithmetic/,
  );
  const bytes = await special("jpeg_baseline_420.jpg");
  const sof = findMarker(bytes, 0xc0);

  const twelveBit = bytes.slice();
  twelveBit[sof + 4] = 12;
  await assertJpegError(decodeJpeg(twelveBit), "UNSUPPORTED", /12-bit/);

  const lossless = bytes.slice();
  lossless[sof + 1] = 0xc3;
  await assertJpegError(decodeJpeg(lossless), "UNSUPPORTED", /lossless/);

  const dnlHeight = bytes.slice();
  dnlHeight[sof + 5] = 0;
  dnlHeight[sof + 6] = 0;
  await assertJpegError(decodeJpeg(dnlHeight), "UNSUPPORTED", /DNL/);

  const huge = bytes.slice();
  huge.fill(0xff, sof + 5, sof + 9); // 65535 x 65535: far more blocks than the scan codes
  await assertJpegError(decodeJpeg(huge), "TRUNCATED", /needs at least \d+ bytes of image data/);
  // Over the pixel budget: a typed TOO_LARGE before any decoding.
  await assert.rejects(decodeJpeg(bytes, { maxPixels: 1000 }), { code: "TOO_LARGE" });
  const scaled = await decodeJpeg(bytes, { maxPixels: 1200, minWidth: 40, minHeight: 30 });
  assert.equal(scaled.width * scaled.height, 1200); // 320x240 at 1/8 fits
});

Deno.test("concurrent decodes give the same results as sequential ones", async () => {
  const names = ["jpeg_baseline_420.jpg", "jpeg_progressive.jpg", "jpeg_gray.jpg", "jpeg_cmyk.jpg"];
  const files = await Promise.all(names.map(special));
  const sequential = [];
  for (const file of files) sequential.push(await decodeJpeg(file, { minWidth: 100 }));
  const concurrent = await Promise.all(files.map((file) => decodeJpeg(file, { minWidth: 100 })));
  for (let i = 0; i < files.length; i++) {
    assert.equal(concurrent[i].scale, 0.5);
    assert.deepEqual(concurrent[i].data, sequential[i].data, names[i]);
  }
});

Deno.test("bad options throw RangeError", async () => {
  const bytes = await special("jpeg_baseline_420.jpg");
  await assert.rejects(decodeJpeg(bytes, { minWidth: -1 }), RangeError);
  await assert.rejects(decodeJpeg(bytes, { minHeight: Number.NaN }), RangeError);
  await assert.rejects(decodeJpeg(bytes, { minWidth: Infinity }), RangeError);
  await assert.rejects(decodeJpeg(bytes, { channels: 1 as 3 }), RangeError);
});

/** Offset of the first FF `marker` segment in a JPEG (headers only). */
function findMarker(bytes: Uint8Array, marker: number): number {
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    assert.equal(bytes[pos], 0xff);
    if (bytes[pos + 1] === marker) return pos;
    pos += 2 + ((bytes[pos + 2] << 8) | bytes[pos + 3]);
  }
  throw new Error(`marker ${marker.toString(16)} not found`);
}
