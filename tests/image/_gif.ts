/**
 * A GIF writer for tests and benches: one frame, a 3-3-2 palette (256 colours), GIF LZW; and a
 * header-only GIF that claims any canvas size.
 *
 * @module
 */

/** GIF LZW (LSB first), with a clear code whenever the table is full. */
function lzw(indices: Uint8Array, minCodeSize: number): Uint8Array {
  const clear = 1 << minCodeSize;
  const out: number[] = [];
  let acc = 0;
  let nacc = 0;
  let width = minCodeSize + 1;
  const emit = (code: number) => {
    acc |= code << nacc;
    nacc += width;
    while (nacc >= 8) {
      out.push(acc & 255);
      acc >>>= 8;
      nacc -= 8;
    }
  };
  let table = new Map<number, number>();
  let next = clear + 2;
  emit(clear);
  let current = indices[0];
  for (let i = 1; i < indices.length; i++) {
    const key = current * 256 + indices[i];
    const found = table.get(key);
    if (found !== undefined) {
      current = found;
      continue;
    }
    emit(current);
    if (next === 4096) {
      emit(clear);
      table = new Map();
      next = clear + 2;
      width = minCodeSize + 1;
    } else {
      table.set(key, next++);
      if (next > 1 << width && width < 12) width++;
    }
    current = indices[i];
  }
  emit(current);
  emit(clear + 1);
  if (nacc > 0) out.push(acc & 255);
  return new Uint8Array(out);
}

function subBlocks(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.ceil(data.length / 255) + 1);
  let o = 0;
  for (let i = 0; i < data.length; i += 255) {
    const part = data.subarray(i, i + 255);
    out[o++] = part.length;
    out.set(part, o);
    o += part.length;
  }
  out[o++] = 0;
  return out.subarray(0, o);
}

const le16 = (v: number) => [v & 255, v >> 8];

/** Encodes RGB pixels as a one-frame GIF with a fixed 3-3-2 palette. */
export function encodeGif(rgb: Uint8Array, width: number, height: number): Uint8Array {
  const palette: number[] = [];
  for (let i = 0; i < 256; i++) {
    palette.push(((i >> 5) * 255) / 7, (((i >> 2) & 7) * 255) / 7, ((i & 3) * 255) / 3);
  }
  const indices = new Uint8Array(width * height);
  for (let p = 0; p < indices.length; p++) {
    const r = Math.round((rgb[3 * p] * 7) / 255);
    const g = Math.round((rgb[3 * p + 1] * 7) / 255);
    const b = Math.round((rgb[3 * p + 2] * 3) / 255);
    indices[p] = (r << 5) | (g << 2) | b;
  }
  const head = [
    ..."GIF89a".split("").map((c) => c.charCodeAt(0)),
    ...le16(width),
    ...le16(height),
    0xf7, // global colour table of 256 entries
    0,
    0,
    ...palette.map(Math.round),
    0x2c,
    0,
    0,
    0,
    0,
    ...le16(width),
    ...le16(height),
    0,
    8,
  ];
  const data = subBlocks(lzw(indices, 8));
  const out = new Uint8Array(head.length + data.length + 1);
  out.set(head);
  out.set(data, head.length);
  out[out.length - 1] = 0x3b;
  return out;
}

/**
 * A GIF of 35 bytes whose screen and one frame claim `width x height`, with image data for a
 * single pixel (clear code, index 0, end code).
 */
export function claimingGif(width: number, height: number): Uint8Array {
  return new Uint8Array([
    ..."GIF89a".split("").map((c) => c.charCodeAt(0)),
    ...le16(width),
    ...le16(height),
    0x80, // global colour table of 2 entries
    0,
    0,
    0,
    0,
    0,
    255,
    255,
    255,
    0x2c,
    0,
    0,
    0,
    0,
    ...le16(width),
    ...le16(height),
    0,
    2, // LZW minimum code size
    2,
    0x44,
    0x01,
    0,
    0x3b,
  ]);
}
