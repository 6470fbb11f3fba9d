/**
 * imagescript's WASM decoders, called directly: the lenient full-size JPEG decoder (the fallback
 * of the fast JPEG path) and the GIF decoder. (PNG and TIFF have decoders of our own, built for
 * untrusted input: `png.ts`, `tiff.ts`.) imagescript's main entry also loads its native encoder
 * addon, which needs FFI and does not exist on edge platforms; decoding needs only these WASM
 * modules. The callers check the pixel budget before calling them.
 *
 * @module
 */
import type codecType from "./imagescript_codecs.d.ts";
import type { Pixels } from "./pixels.ts";

type Codec = typeof codecType;

// Loaded on first use: the modules read IMAGESCRIPT_WASM_SIMD from the environment when they are
// evaluated, so importing the library needs no --allow-env, and most callers (JPEG, PNG, TIFF)
// never load them at all.
const jpegCodec = {
  init: async () =>
    ((await import("npm:imagescript@1.3.1/wasm/node/jpeg.js")).default as Codec).init(),
};
const gifCodec = {
  init: async () =>
    ((await import("npm:imagescript@1.3.1/wasm/node/gif.js")).default as Codec).init(),
};

/**
 * Decodes a JPEG at full size (the fallback of the fast JPEG path: more lenient with damaged
 * data).
 *
 * @throws {Error} from the decoder for data it cannot decode.
 */
export async function decodeJpegWasm(bytes: Uint8Array): Promise<Pixels> {
  const codec = await jpegCodec.init();
  const fb = codec.decode(bytes, 0, 0);
  const count = fb.width * fb.height;
  if (fb.format === 0) return { data: fb.buffer, width: fb.width, height: fb.height, channels: 1 };
  if (fb.format === 1) return { data: fb.buffer, width: fb.width, height: fb.height, channels: 3 };
  // CMYK, which this decoder returns uninverted: R = (255 - C)(255 - K) / 255.
  const rgb = new Uint8Array(count * 3);
  const src = fb.buffer;
  for (let i = 0, o = 0; o < rgb.length; i += 4) {
    const k = 255 - src[i + 3];
    rgb[o++] = ((255 - src[i]) * k) / 255;
    rgb[o++] = ((255 - src[i + 1]) * k) / 255;
    rgb[o++] = ((255 - src[i + 2]) * k) / 255;
  }
  return { data: rgb, width: fb.width, height: fb.height, channels: 3 };
}

/** Decodes the first frame of a GIF onto its logical screen, RGBA. */
export async function decodeGifWasm(bytes: Uint8Array): Promise<Pixels> {
  const decoder = new (await gifCodec.init()).Decoder(bytes);
  try {
    const frame = decoder.frame();
    if (!frame) throw new Error("gif: no frames");
    const { width, height } = decoder;
    const data = new Uint8Array(width * height * 4);
    // The part of the frame on the screen (a frame past the right edge shows nothing).
    const visible = Math.max(0, Math.min(frame.width, width - frame.x)) * 4;
    for (let y = 0; visible > 0 && y < frame.height && y + frame.y < height; y++) {
      const row = frame.buffer.subarray(y * frame.width * 4, y * frame.width * 4 + visible);
      data.set(row, ((y + frame.y) * width + frame.x) * 4);
    }
    return { data, width, height, channels: 4 };
  } finally {
    decoder.free();
  }
}
