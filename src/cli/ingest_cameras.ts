/**
 * The cameras of `deno task ingest`: each source on the command line, with its own settings
 * after it, go2rtc-style (`SOURCE#name=garage#head=garage.json#zone=0.5,0.4,0.3,0.5#confirm=3`),
 * over the flags that apply to every camera (`--head`, `--zone`, `--confirm`, `--collect`,
 * and `--name` for a single source); then the heads loaded and checked against the model.
 *
 * @module
 */
import { errorMessage } from "../_util.ts";
import type { MobileNet } from "../mobilenet.ts";
import { Head } from "../head/head.ts";
import { userPath } from "./paths.ts";
import type { Zone } from "../image/preprocess.ts";
import { bundledModelFor } from "../bundled.ts";
import type { Camera } from "../ingest/camera.ts";
import type { CollectOptions } from "../ingest/collect.ts";
import { UNSORTED } from "../ingest/collect.ts";
import type { Source } from "../ingest/types.ts";
import { zoneFlag } from "./flag_values.ts";

/** The settings a camera may have after its source. */
const KEYS = ["name", "head", "zone", "confirm", "collect"] as const;

/** One camera as the command line gives it: the source, and its settings. */
export interface CameraSpec {
  /** The source as written, without its settings. */
  source: string;
  /** Its name, if given. */
  name?: string;
  /** Its head file or URL, if any. */
  head?: string;
  /** Its zone, if any. */
  zone?: Zone;
  /** Its confirm count, if any. */
  confirm?: number;
  /** Its collect folder, if any. */
  collect?: string;
}

/**
 * `--confirm N`: a positive integer.
 *
 * @throws {RangeError} for anything else.
 */
export function confirmFlag(raw: unknown, flag = "--confirm"): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${flag} must be a positive integer, got ${raw}`);
  }
  return n;
}

/**
 * Splits a source into the source and its settings: everything from the first `#key=` on.
 * A `#` that no `key=` follows stays in the source (an MQTT `#` wildcard, a URL fragment).
 *
 * @throws {RangeError} for a setting this command does not know, or a bad value.
 */
export function parseCameraSpec(text: string): CameraSpec {
  const at = text.search(/#[a-z][a-z-]*=/);
  const spec: CameraSpec = { source: at < 0 ? text : text.slice(0, at) };
  if (at < 0) return spec;
  for (const part of text.slice(at + 1).split(/#(?=[a-z][a-z-]*=)/)) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq) as typeof KEYS[number];
    const value = part.slice(eq + 1);
    if (!KEYS.includes(key)) {
      throw new RangeError(
        `unknown camera setting #${key}= in ${spec.source} (settings: ${KEYS.join(", ")})`,
      );
    }
    if (key === "zone") spec.zone = zoneFlag(value, "#zone=");
    else if (key === "confirm") spec.confirm = confirmFlag(value, "#confirm=");
    else if (value === "") throw new RangeError(`#${key}= needs a value in ${spec.source}`);
    else spec[key] = value;
  }
  return spec;
}

/** The flags that apply to every camera (a camera's own settings win). */
export interface CameraDefaults {
  name?: string;
  head?: string;
  zone?: Zone;
  confirm?: number;
  collect?: string;
}

/**
 * The cameras of the command line: each source's settings over the defaults.
 *
 * @throws {RangeError} for a bad setting, or `--name` with several sources.
 */
export function cameraSpecs(sources: string[], defaults: CameraDefaults): CameraSpec[] {
  if (defaults.name !== undefined && sources.length > 1) {
    throw new RangeError("--name names one source; give each its own: SOURCE#name=NAME");
  }
  const path = (value: string | undefined) => value === undefined ? undefined : userPath(value);
  return sources.map((text) => {
    const own = parseCameraSpec(text);
    return {
      source: own.source,
      name: own.name ?? defaults.name,
      head: path(own.head ?? defaults.head),
      zone: own.zone ?? defaults.zone,
      confirm: own.confirm ?? defaults.confirm,
      collect: path(own.collect ?? defaults.collect),
    };
  });
}

/**
 * Loads each head once (by file), and says which model to load when `--model` is not given:
 * the bundled model the first taught head was taught on.
 *
 * @throws {Error} naming the head file that cannot be loaded.
 */
export async function loadHeads(
  specs: CameraSpec[],
): Promise<{ heads: Map<string, Head>; model: string | undefined }> {
  const heads = new Map<string, Head>();
  for (const { head } of specs) {
    if (head === undefined || heads.has(head)) continue;
    try {
      heads.set(head, await Head.load(head));
    } catch (error) {
      throw new Error(`head ${head}: ${errorMessage(error)}`, { cause: error });
    }
  }
  const taught = [...heads.values()].find((h) => h.kind === "taught");
  return { heads, model: taught ? bundledModelFor(taught.base) : undefined };
}

/** Collecting settings of the command line (`--collect-max`, ...), for every collect folder. */
export type CollectLimits = Omit<CollectOptions, "dir">;

/**
 * The cameras for `runIngest`: each source with its settings, its head checked against the
 * model, its collect folder created.
 *
 * @throws {Error} naming the camera: a head that does not fit the model (taught on other
 * weights), or a collect folder that cannot be created.
 */
export async function readyCameras(
  specs: CameraSpec[],
  sources: Source[],
  context: { model: MobileNet; heads: Map<string, Head>; collect: CollectLimits },
): Promise<Camera[]> {
  const cameras: Camera[] = [];
  for (const [i, spec] of specs.entries()) {
    const head = spec.head === undefined ? undefined : context.heads.get(spec.head);
    const what = `camera ${spec.name ?? sources[i].name}`;
    try {
      if (head) context.model.withHead(head);
    } catch (error) {
      throw new Error(`${what}: head ${spec.head}: ${errorMessage(error)}`, { cause: error });
    }
    if (spec.collect !== undefined) {
      try {
        await Deno.mkdir(`${spec.collect}/${UNSORTED}`, { recursive: true });
      } catch (error) {
        throw new Error(`${what}: cannot collect into ${spec.collect}: ${errorMessage(error)}`);
      }
    }
    cameras.push({
      source: sources[i],
      name: spec.name,
      head,
      zone: spec.zone,
      confirm: spec.confirm,
      collect: spec.collect === undefined ? undefined : { dir: spec.collect, ...context.collect },
    });
  }
  return cameras;
}
