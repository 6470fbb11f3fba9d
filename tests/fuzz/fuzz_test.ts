/**
 * A short fuzz run on every test run: a fixed seed and a fixed input count (so that it is the
 * same run each time), 2 children, the default bounds, no finding allowed. The long campaign is
 * `deno task fuzz --inputs 20000`, reported in issue 17.
 *
 * `FUZZ_FORMATS=jpeg,gif` restricts the run to some formats.
 */
import { assertEquals } from "../_assert.ts";
import { runFuzz } from "./_cli.ts";
import type { Summary } from "../../tools/fuzz/tally.ts";

const FORMATS = Deno.env.get("FUZZ_FORMATS") ?? "all";
const INPUTS = 300; // per format: about 20 s on 2 cores

Deno.test(`fuzz: ${INPUTS} inputs per format (${FORMATS}) and no finding`, async () => {
  const out = await Deno.makeTempDir({ prefix: "fuzz_short_" });
  try {
    const { stdout, json } = await runFuzz<Summary>([
      ..."--seed test-suite --jobs 2 --minimize-seconds 0 --check-every 1000".split(" "),
      ...["--format", FORMATS, "--inputs", String(INPUTS), "--out", out],
    ]);
    const findings = json.saved.map((s) =>
      `${s.record.kind} ${s.record.format} #${s.record.iteration}: ${s.record.mutations.join("; ")}`
    );
    assertEquals(json.findingCount, 0, `${stdout}\n${findings.join("\n")}`);
    assertEquals(json.checks.same, json.checks.run, "the model's answer never changed");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
