/**
 * The findings folder: each finding is its input, `<format>/<hash>.<ext>` (the first 12 hex
 * digits of its SHA-256; `.gz` added when it is over 256 KB), and a small JSON beside it saying how it was made and what it did.
 * `tests/fuzz/findings_test.ts` runs every file found here as a regression test.
 *
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";
import type { Format } from "./mutator.ts";

/** The kinds of finding. */
export type FindingKind = "hang" | "oom" | "crash" | "error" | "insane" | "slow" | "model";

/** What a finding's JSON holds. */
export interface FindingRecord {
  format: Format;
  kind: FindingKind;
  /** The run's seed string and the input's iteration: `--seed` and the input's number. */
  seed: string;
  iteration: number;
  /** The corpus seed it was made from, and the mutations applied. */
  seedIndex: number;
  mutations: string[];
  /** The verdict, error or stderr, shortened. */
  detail: string;
  cpuMs: number;
  wallMs: number;
  rssMb: number;
  bytes: number;
  /** Set when the file was minimised: its size before, and the runs it took. */
  minimized?: { fromBytes: number; tests: number };
}

/** A saved finding: where its input and its record are. */
export interface SavedFinding {
  path: string;
  record: FindingRecord;
}

/** The file extension of a format's inputs. */
export const EXTENSIONS: Record<Format, string> = {
  jpeg: "jpg",
  png: "png",
  gif: "gif",
  tiff: "tif",
  mjpeg: "mjpeg",
  "jpeg-stream": "mjpg",
};

/** The first 12 hex digits of the SHA-256 of `bytes`. */
export async function shortHash(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Inputs over this size (amplified ones: thousands of scans, strips or chunks) are gzipped. */
const GZIP_OVER = 256 * 1024;

/**
 * Writes a finding's input (gzipped when over 256 KB) and record under `dir`, unless a finding with the same bytes is
 * there already.
 *
 * @returns the input's path, and whether it was written now
 */
export async function saveFinding(
  dir: string,
  bytes: Uint8Array,
  record: FindingRecord,
): Promise<{ path: string; fresh: boolean }> {
  const folder = `${dir}/${record.format}`;
  await Deno.mkdir(folder, { recursive: true });
  const packed = bytes.length > GZIP_OVER;
  const path = `${folder}/${await shortHash(bytes)}.${EXTENSIONS[record.format]}${
    packed ? ".gz" : ""
  }`;
  try {
    await Deno.writeFile(path, packed ? new Uint8Array(gzipSync(bytes)) : bytes, {
      createNew: true,
    });
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return { path, fresh: false };
    throw error;
  }
  await Deno.writeTextFile(jsonPath(path), JSON.stringify(record, null, 2) + "\n");
  return { path, fresh: true };
}

/** The record's path beside a finding's input. */
export function jsonPath(path: string): string {
  return path.replace(/\.[^./]+(\.gz)?$/, ".json");
}

/** A finding's input bytes (gunzipped when stored with `.gz`). */
export async function readFinding(path: string): Promise<Uint8Array> {
  const bytes = await Deno.readFile(path);
  return path.endsWith(".gz") ? new Uint8Array(gunzipSync(bytes)) : bytes;
}

/** Removes a finding's input and record. */
export async function removeFinding(path: string): Promise<void> {
  for (const p of [path, jsonPath(path)]) {
    await Deno.remove(p).catch(() => {});
  }
}

/** Every finding input under `dir` (any format folder), with its record when there is one. */
export async function listFindings(dir: string): Promise<SavedFinding[]> {
  const out: SavedFinding[] = [];
  const formats = Object.keys(EXTENSIONS) as Format[];
  for (const format of formats) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(`${dir}/${format}`)];
    } catch {
      continue;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isFile || entry.name.endsWith(".json")) continue;
      const path = `${dir}/${format}/${entry.name}`;
      let record: FindingRecord;
      try {
        record = JSON.parse(await Deno.readTextFile(jsonPath(path)));
      } catch {
        record = {
          format,
          kind: "error",
          seed: "",
          iteration: -1,
          seedIndex: -1,
          mutations: [],
          detail: "hand-made",
          cpuMs: 0,
          wallMs: 0,
          rssMb: 0,
          bytes: 0,
        };
      }
      out.push({ path, record: { ...record, format } });
    }
  }
  return out;
}
