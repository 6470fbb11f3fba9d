/**
 * Small generated examples for the head tests: front-door frames with and without a package
 * (`bench/teach_scene.ts`), as raw pixels or as a folder of PNG files in class folders.
 *
 * @module
 */
import { type SceneFrame, sceneFrame } from "../../bench/teach_scene.ts";
import { encodePng } from "../_png.ts";

/** Frame size of the tests: small, so that decoding and resizing cost little. */
export const SIZE = { width: 192, height: 108 };

/** `count` frames of a state, from seeds starting at `seed`. */
export function frames(state: "empty" | "package", count: number, seed: number): SceneFrame[] {
  return Array.from({ length: count }, (_, i) =>
    sceneFrame({
      ...SIZE,
      seed: seed + i,
      packageSeed: state === "package" ? seed + i : undefined,
    }));
}

/** A frame as PNG bytes. */
export async function png(frame: SceneFrame): Promise<Uint8Array> {
  const rgba = new Uint8Array(frame.width * frame.height * 4);
  for (let i = 0; i < frame.width * frame.height; i++) {
    rgba.set(frame.data.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return await encodePng(rgba, frame.width, frame.height);
}

/** Writes `classes` (label to frames) as `dir/LABEL/NNN.png`; returns `dir`. */
export async function writeExamples(
  dir: string,
  classes: Record<string, SceneFrame[]>,
): Promise<string> {
  for (const [label, list] of Object.entries(classes)) {
    await Deno.mkdir(`${dir}/${label}`, { recursive: true });
    for (const [i, frame] of list.entries()) {
      await Deno.writeFile(`${dir}/${label}/${String(i).padStart(3, "0")}.png`, await png(frame));
    }
  }
  return dir;
}
