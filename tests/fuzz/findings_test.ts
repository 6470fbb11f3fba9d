/**
 * Every file in `tests/fuzz/findings/` is a regression test: decoded as `classify` decodes it,
 * it must give a typed error (or a picture of sane size). Each runs in the fuzzer's child under
 * generous bounds (5 s of CPU, 1 GB), so that a hang that comes back fails the test instead of
 * hanging it; no time is asserted.
 */
import { assertEquals } from "../_assert.ts";
import { runFuzz } from "./_cli.ts";
import type { Replayed } from "../../tools/fuzz/replay.ts";

const FINDINGS = new URL("./findings/", import.meta.url).pathname;

Deno.test("fuzz findings: each saved finding now decodes to a typed error or a sane picture", async (t) => {
  const { json } = await runFuzz<Replayed[]>(
    ["--replay", FINDINGS, ..."--timeout-ms 5000 --memory-mb 1000 --slow-ms 1000000".split(" ")],
  );
  for (const r of json) {
    await t.step(`${r.path.slice(FINDINGS.length)}: ${r.outcome}`, () => {
      assertEquals(r.findings, [], `${r.outcome}: ${r.detail}`);
    });
  }
});
