/**
 * The harness itself, against a target with planted bugs (`_planted_target.ts`): each kind of
 * failure is caught, counted, saved with its record, minimised, and the run goes on after it;
 * and a saved finding replays as a finding.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { runFuzz } from "./_cli.ts";
import type { Summary } from "../../tools/fuzz/tally.ts";
import type { Replayed } from "../../tools/fuzz/replay.ts";

const PLANTED = new URL("./_planted_target.ts", import.meta.url).href;

Deno.test("fuzz harness: planted hang, stall, abort, heap and RSS blow-ups, errors and slow inputs are caught, saved and reported", async () => {
  const out = await Deno.makeTempDir({ prefix: "fuzz_planted_" });
  try {
    // The ten seeds run unmutated first: each planted bug once, then two fine inputs.
    const { code, stdout, json: summary } = await runFuzz<Summary>([
      ..."--format jpeg --inputs 12 --seed planted --jobs 2 --no-model --max-per-kind 1".split(" "),
      ..."--timeout-ms 1000 --wall-ms 6000 --memory-mb 150 --slow-ms 200 --minimize-seconds 2"
        .split(" "),
      ...["--target-module", PLANTED, "--out", out],
    ]);
    assertEquals(code, 1, "findings make the exit code 1");
    const jpeg = summary.perFormat.jpeg!;
    assertEquals(jpeg.inputs, 12, "every input ran, restarts included");
    // HANG (CPU bound) and STALL (wall bound) are hangs; RSS is killed over the RSS bound; HEAP
    // dies in V8 or is killed over RSS (or, on a machine so busy that it crawls, by the wall bound)
    const { hang = 0, oom = 0 } = jpeg.findings;
    assert(hang >= 2 && oom >= 1 && hang + oom === 4, `hang ${hang}, oom ${oom}`);
    assertEquals(jpeg.findings.crash, 1); // ABORT
    assertEquals(jpeg.findings.error, 1); // THROW
    assertEquals(jpeg.findings.insane, 1);
    assertEquals(jpeg.findings.slow, 1);
    assert(summary.restarts >= 4, `restarts: ${summary.restarts}`);
    assert(summary.slowest!.cpuMs >= 1000, "the hang's CPU time is the slowest");
    assertMatch(stdout, /findings\s+hang\s+oom\s+crash\s+error\s+insane\s+slow\s+model/);
    // saved: one per kind, each with a record; the error shrank to its trigger
    const kinds = summary.saved.map((s) => s.record.kind).sort();
    assertEquals(kinds, ["crash", "error", "hang", "insane", "oom", "slow"]);
    for (const { path, record } of summary.saved) {
      assert(path.startsWith(`${out}/jpeg/`) && path.endsWith(".jpg"), path);
      const bytes = await Deno.readFile(path);
      assertEquals(bytes.length, record.bytes);
      const saved = JSON.parse(await Deno.readTextFile(path.replace(/\.jpg$/, ".json")));
      assertEquals(saved.kind, record.kind);
      assertEquals(saved.seed, "planted");
      assert(Number.isInteger(saved.iteration) && saved.iteration < 12);
    }
    const error = summary.saved.find((s) => s.record.kind === "error")!;
    assertEquals(new TextDecoder().decode(await Deno.readFile(error.path)), "THROW");
    assertEquals(error.record.minimized?.fromBytes, "padding-THROW-padding".length);
    // a saved finding replays as a finding; a fine file replays as fine
    const fine = `${out}/fine.jpg`;
    await Deno.writeTextFile(fine, "okay");
    const hung = summary.saved.find((s) => s.record.kind === "hang")!;
    const replayed = await runFuzz<Replayed[]>(
      ["--replay", `${hung.path},${fine}`, "--target-module", PLANTED, "--timeout-ms", "500"],
    );
    assertEquals(replayed.code, 1);
    assertEquals(replayed.json.map((r) => r.findings), [["hang"], []]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
