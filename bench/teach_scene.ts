/**
 * A synthetic camera for teaching states: a fixed front-door scene (wall, door, window, porch),
 * seen under changing light (gain, colour cast, a sun gradient, a shadow band, sensor noise),
 * with or without a package on the doorstep. Both states have clutter: fallen leaves on the
 * doorstep in half the frames, a passer-by beside it in a third. Everything comes from a seed,
 * so a frame is the same on every run; packages drawn from different seeds are packages never
 * seen.
 *
 * `bench/teach_eval.ts` scores heads on it; `tests/head/` teaches from a few small frames.
 *
 * @module
 */
import { mulberry32 } from "../src/_util.ts";

/** A frame: RGB pixels, row-major. */
export interface SceneFrame {
  /** `width * height * 3` bytes. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Channels: always 3. */
  channels: 3;
}

/** The doorstep, in fractions of the frame: where packages are left. */
export const DOORSTEP = { x: 0.45, y: 0.55, width: 0.35, height: 0.4 } as const;

/** Options of {@linkcode sceneFrame}. */
export interface SceneOptions {
  /** Frame width. @default {640} */
  width?: number;
  /** Frame height. @default {360} */
  height?: number;
  /** Seed of the light and noise of this frame. */
  seed: number;
  /** Seed of the package on the doorstep; none when absent. */
  packageSeed?: number;
  /** An object to paste instead of a generated box: RGB pixels (e.g. a crop of a photo). */
  object?: SceneFrame;
}

type Rgb = [number, number, number];

/** Fills a rectangle given in fractions with a colour, with per-pixel texture. */
function fill(
  frame: Float32Array,
  w: number,
  h: number,
  rect: { x: number; y: number; width: number; height: number },
  color: Rgb,
  texture: (x: number, y: number) => number = () => 0,
): void {
  const x0 = Math.round(rect.x * w), x1 = Math.round((rect.x + rect.width) * w);
  const y0 = Math.round(rect.y * h), y1 = Math.round((rect.y + rect.height) * h);
  for (let y = Math.max(0, y0); y < Math.min(h, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(w, x1); x++) {
      const t = texture(x, y);
      for (let c = 0; c < 3; c++) frame[(y * w + x) * 3 + c] = color[c] + t;
    }
  }
}

/** The fixed scene, before light: the same for every frame of a size. */
function background(w: number, h: number): Float32Array {
  const f = new Float32Array(w * h * 3);
  const noise = mulberry32(7);
  const grain = new Float32Array(w * h).map(() => (noise() - 0.5) * 14);
  const brick = (x: number, y: number) => {
    const row = Math.floor(y / (h / 30));
    const joint = y % Math.round(h / 30) === 0 || (x + (row % 2) * 11) % Math.round(w / 24) === 0;
    return (joint ? -40 : 0) + grain[y * w + x];
  };
  fill(f, w, h, { x: 0, y: 0, width: 1, height: 0.62 }, [178, 120, 96], brick);
  fill(
    f,
    w,
    h,
    { x: 0, y: 0.62, width: 1, height: 0.38 },
    [128, 126, 120],
    (x, y) => grain[y * w + x] * 1.5 + ((x >> 4) + (y >> 4)) % 2 * 8,
  );
  fill(
    f,
    w,
    h,
    { x: 0.12, y: 0.14, width: 0.22, height: 0.5 },
    [74, 46, 30],
    (x, y) => grain[y * w + x] * 0.5,
  );
  fill(f, w, h, { x: 0.3, y: 0.38, width: 0.015, height: 0.03 }, [210, 180, 60]);
  fill(f, w, h, { x: 0.55, y: 0.12, width: 0.28, height: 0.26 }, [230, 230, 225]);
  fill(
    f,
    w,
    h,
    { x: 0.565, y: 0.14, width: 0.25, height: 0.22 },
    [120, 160, 200],
    (x, y) => (y - 0.14 * h) * 0.4 + grain[y * w + x] * 0.3,
  );
  fill(
    f,
    w,
    h,
    { x: 0.1, y: 0.64, width: 0.26, height: 0.08 },
    [60, 80, 50],
    (x, y) => grain[y * w + x],
  );
  fill(f, w, h, { x: 0.88, y: 0.45, width: 0.08, height: 0.22 }, [150, 80, 40]);
  fill(
    f,
    w,
    h,
    { x: 0.86, y: 0.3, width: 0.12, height: 0.16 },
    [50, 120, 45],
    (x, y) => grain[y * w + x] * 2,
  );
  return f;
}

const BACKGROUNDS = new Map<string, Float32Array>();

/** A generated parcel: a box with a lit top, a shaded side and a tape stripe. */
function drawBox(f: Float32Array, w: number, h: number, seed: number): void {
  const r = mulberry32(seed * 7919 + 13);
  const tones: Rgb[] = [
    [176, 132, 84],
    [196, 160, 110],
    [150, 108, 66],
    [225, 222, 215],
    [
      90,
      90,
      96,
    ],
    [200, 60, 50],
    [60, 90, 160],
  ];
  const base = tones[Math.floor(r() * tones.length)].map((v) => v * (0.85 + r() * 0.3)) as Rgb;
  const bw = DOORSTEP.width * (0.3 + r() * 0.45), bh = DOORSTEP.height * (0.3 + r() * 0.45);
  const x = DOORSTEP.x + r() * (DOORSTEP.width - bw), y = DOORSTEP.y + r() * (DOORSTEP.height - bh);
  const top = bh * (0.2 + r() * 0.2), side = bw * (0.15 + r() * 0.2);
  fill(f, w, h, { x, y: y + top, width: bw - side, height: bh - top }, base);
  fill(f, w, h, { x, y, width: bw - side, height: top }, base.map((v) => v * 1.2) as Rgb);
  fill(f, w, h, { x: x + bw - side, y, width: side, height: bh }, base.map((v) => v * 0.7) as Rgb);
  if (r() < 0.7) {
    const tape = base.map((v) => v * (r() < 0.5 ? 0.6 : 1.35)) as Rgb;
    fill(f, w, h, { x: x + (bw - side) * 0.45, y, width: (bw - side) * 0.1, height: bh }, tape);
  }
}

/** Pastes `object` (RGB) scaled into a random box on the doorstep. */
function pasteObject(f: Float32Array, w: number, h: number, seed: number, object: SceneFrame) {
  const r = mulberry32(seed * 104729 + 7);
  const bw = DOORSTEP.width * (0.35 + r() * 0.4);
  const bh = Math.min(DOORSTEP.height * 0.9, bw * (w / h) * (object.height / object.width));
  const x0 = Math.round((DOORSTEP.x + r() * (DOORSTEP.width - bw)) * w);
  const y0 = Math.round((DOORSTEP.y + r() * (DOORSTEP.height - bh)) * h);
  const pw = Math.round(bw * w), ph = Math.round(bh * h);
  for (let y = 0; y < ph && y0 + y < h; y++) {
    const sy = Math.floor((y * object.height) / ph);
    for (let x = 0; x < pw && x0 + x < w; x++) {
      const sx = Math.floor((x * object.width) / pw);
      for (let c = 0; c < 3; c++) {
        f[((y0 + y) * w + x0 + x) * 3 + c] = object.data[(sy * object.width + sx) * 3 + c];
      }
    }
  }
}

/** Clutter of either state: leaves on the doorstep, a passer-by left of it (from `seed`). */
function clutter(f: Float32Array, w: number, h: number, seed: number): void {
  const r = mulberry32(seed * 65537 + 3);
  if (r() < 0.5) {
    const leaves = 3 + Math.floor(r() * 6);
    for (let i = 0; i < leaves; i++) {
      const color: Rgb = r() < 0.5 ? [110, 70, 30] : [70, 90, 35];
      const lw = 0.015 + r() * 0.025;
      fill(f, w, h, {
        x: DOORSTEP.x + r() * (DOORSTEP.width - lw),
        y: DOORSTEP.y + r() * (DOORSTEP.height - lw),
        width: lw,
        height: lw * 0.6 * (w / h),
      }, color);
    }
  }
  if (r() < 0.33) {
    const x = 0.02 + r() * 0.35;
    const coat: Rgb = [40 + r() * 150, 40 + r() * 100, 40 + r() * 150];
    fill(f, w, h, { x, y: 0.3, width: 0.07, height: 0.45 }, coat);
    fill(f, w, h, { x: x + 0.015, y: 0.2, width: 0.04, height: 0.1 }, [200, 160, 130]);
  }
}

/** Light and sensor: gain, colour cast, a sun gradient, a shadow band, noise. */
function expose(f: Float32Array, w: number, h: number, seed: number): Uint8Array {
  const r = mulberry32(seed * 31 + 1);
  const gain = 0.55 + r() * 0.75;
  const cast: Rgb = [1 + (r() - 0.5) * 0.25, 1 + (r() - 0.5) * 0.1, 1 + (r() - 0.5) * 0.25];
  const sun = (r() - 0.5) * 0.6;
  const shadowAt = r(), shadowWidth = 0.1 + r() * 0.25, shadow = r() < 0.5 ? 0.6 : 1;
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w;
      let light = gain * (1 + sun * (u - 0.5));
      if (Math.abs(u + y / h * 0.3 - shadowAt) < shadowWidth / 2) light *= shadow;
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        out[i] = Math.max(0, Math.min(255, Math.round(f[i] * light * cast[c] + (r() - 0.5) * 10)));
      }
    }
  }
  return out;
}

/**
 * One frame of the front door: the scene, a package when `packageSeed` is given (a generated
 * box, or `object` pasted), and this frame's light (`seed`).
 */
export function sceneFrame(options: SceneOptions): SceneFrame {
  const w = options.width ?? 640, h = options.height ?? 360;
  const key = `${w}x${h}`;
  if (!BACKGROUNDS.has(key)) BACKGROUNDS.set(key, background(w, h));
  const f = BACKGROUNDS.get(key)!.slice();
  clutter(f, w, h, options.seed);
  if (options.packageSeed !== undefined) {
    if (options.object) pasteObject(f, w, h, options.packageSeed, options.object);
    else drawBox(f, w, h, options.packageSeed);
  }
  return { data: expose(f, w, h, options.seed), width: w, height: h, channels: 3 };
}
