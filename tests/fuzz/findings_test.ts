/**
 * Every file in `tests/fuzz/findings/` is a regression test: decoded as `classify` decodes it,
 * it must give a typed error (or a picture of sane size). Each runs in the fuzzer's child, so
 * that a hang that comes back fails the test instead of hanging it, under the campaign's memory
 * bound (300 MB RSS; the child here has no model loaded, so this is lenient) and a CPU bound far
 * over it (5 s, against the campaign's 2 s and the 1 s slow mark), so that only a hang fails on
 * time; slowness itself is the campaign's and the bench's to measure.
 */
import { assertEquals } from "../_assert.ts";
import { runFuzz } from "./_cli.ts";
import type { Replayed } from "../../tools/fuzz/replay.ts";

const FINDINGS = new URL("./findings/", import.meta.url).pathname;

Deno.test("fuzz findings: each saved finding now decodes to a typed error or a sane picture", async (t) => {
  const { json } = await runFuzz<Replayed[]>(
    [
      "--replay",
      FINDINGS,
      ..."--timeout-ms 5000 --wall-ms 60000 --memory-mb 300 --slow-ms 1000000".split(" "),
    ],
  );
  for (const r of json) {
    await t.step(`${r.path.slice(FINDINGS.length)}: ${r.outcome}`, () => {
      assertEquals(r.findings, [], `${r.outcome}: ${r.detail}`);
    });
  }
});
