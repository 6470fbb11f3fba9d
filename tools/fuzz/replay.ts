/**
 * Replays saved findings (or any files) through the fuzzer's child under the bounds, one after
 * another, and says which are still findings. `tests/fuzz/findings_test.ts` runs the findings
 * folder this way, so that a regression that brings a hang back fails the test instead of
 * hanging it.
 *
 * @module
 */
import { EXTENSIONS, listFindings, readFinding } from "./findings.ts";
import type { Format } from "./mutator.ts";
import { type Bounds, Child } from "./runner.ts";
import { findingKinds, outcomeLabel } from "./tally.ts";
import type { FindingKind } from "./findings.ts";

/** What one replayed file did. */
export interface Replayed {
  path: string;
  format: Format;
  /** decoded, a typed error code, or the finding's kind. */
  outcome: string;
  /** Finding kinds: empty when the file is now handled. */
  findings: FindingKind[];
  detail: string;
  cpuMs: number;
  rssMb: number;
}

const BY_EXTENSION: Record<string, Format> = {
  jpg: "jpeg",
  jpeg: "jpeg",
  png: "png",
  gif: "gif",
  tif: "tiff",
  tiff: "tiff",
  mjpeg: "mjpeg",
  mjpg: "jpeg-stream",
};

/** The format of a file: its folder's name, else its extension. */
function formatOf(path: string): Format | undefined {
  const parts = path.split("/");
  const folder = parts[parts.length - 2] as Format;
  if (folder in EXTENSIONS) return folder;
  const name = path.replace(/\.gz$/, "");
  return BY_EXTENSION[name.slice(name.lastIndexOf(".") + 1).toLowerCase()];
}

/** The files to replay: a findings folder (all formats), or single files. */
async function filesOf(paths: string[]): Promise<{ path: string; format: Format }[]> {
  const out: { path: string; format: Format }[] = [];
  for (const path of paths) {
    if ((await Deno.stat(path)).isDirectory) {
      out.push(
        ...(await listFindings(path)).map((f) => ({ path: f.path, format: f.record.format })),
      );
      continue;
    }
    const format = formatOf(path);
    if (!format) throw new TypeError(`cannot tell the format of ${path}`);
    out.push({ path, format });
  }
  return out;
}

/** Replays `paths` (files or findings folders) in one child, restarted after each finding. */
export async function replay(
  paths: string[],
  bounds: Bounds,
  slowMs: number,
  targetModule?: string,
): Promise<Replayed[]> {
  const start = () => Child.start({ bounds, model: false, targetModule });
  const out: Replayed[] = [];
  let child = await start();
  try {
    for (const { path, format } of await filesOf(paths)) {
      if (!child.alive) child = await start();
      const result = await child.run(format, await readFinding(path));
      const findings = findingKinds(result, slowMs);
      out.push({
        path,
        format,
        outcome: outcomeLabel(result, findings),
        findings,
        detail: (result.verdict?.detail ?? result.died?.stderr ?? "").slice(0, 500),
        cpuMs: result.cpuMs,
        rssMb: Math.round(result.rssMb),
      });
    }
  } finally {
    await child.close();
  }
  return out;
}
