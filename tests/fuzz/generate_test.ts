/**
 * The fuzzer's inputs are reproducible: the same seed and options make the same corpus and the
 * same inputs byte for byte, in this process and in another one; another seed makes others;
 * no input is over the size cap.
 */
import { assert, assertEquals } from "../_assert.ts";
import { buildCorpus } from "../../tools/fuzz/corpus.ts";
import { makeInput, MAX_INPUT_BYTES } from "../../tools/fuzz/generate.ts";
import { shortHash } from "../../tools/fuzz/findings.ts";
import type { Format } from "../../tools/fuzz/mutator.ts";
import { ALL_FORMATS } from "../../tools/fuzz/protocol.ts";
import { DEV_LOCK } from "./_cli.ts";

const MAIN = new URL("../../tools/fuzz/main.ts", import.meta.url);
const COUNT = 40;

const digest = async (bytes: Uint8Array) => await shortHash(bytes) + `/${bytes.length}`;

Deno.test("fuzz inputs: the same seed and options give the same inputs, byte for byte", async () => {
  const a = await buildCorpus(ALL_FORMATS);
  const b = await buildCorpus(ALL_FORMATS);
  for (const format of ALL_FORMATS) {
    const seeds = async (c: typeof a) => await Promise.all(c[format]!.map(digest));
    assertEquals(await seeds(a), await seeds(b), `${format} seeds`);
    let differ = 0;
    for (let i = 0; i < COUNT; i++) {
      const x = makeInput(format, "repro", i, a);
      const y = makeInput(format, "repro", i, b);
      assertEquals(await digest(x.bytes), await digest(y.bytes), `${format} #${i}`);
      assertEquals(x.notes, y.notes);
      assert(x.bytes.length <= MAX_INPUT_BYTES);
      const other = makeInput(format, "another seed", i, a);
      if (i >= a[format]!.length && await digest(other.bytes) !== await digest(x.bytes)) differ++;
    }
    const mutated = COUNT - a[format]!.length;
    assert(
      differ >= mutated * 0.9,
      `${format}: another seed changed ${differ} of ${mutated} inputs`,
    );
  }
});

Deno.test("fuzz inputs: another process (deno task fuzz --emit) makes the same bytes", async () => {
  const formats: Format[] = ["jpeg", "png", "gif", "tiff"];
  const dir = await Deno.makeTempDir({ prefix: "fuzz_emit_" });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `--lock=${DEV_LOCK}`,
        MAIN.href,
        "--emit",
        dir,
        "--inputs",
        "25",
        "--seed",
        "repro",
        "--format",
        "all",
      ],
      stdout: "null",
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const corpus = await buildCorpus(formats);
    for (const format of formats) {
      const files = [...Deno.readDirSync(`${dir}/${format}`)].map((e) => e.name).sort();
      assertEquals(files.length, 25);
      for (const [i, name] of files.entries()) {
        const emitted = await Deno.readFile(`${dir}/${format}/${name}`);
        const here = makeInput(format, "repro", i, corpus).bytes;
        assertEquals(await digest(emitted), await digest(here), `${format} #${i}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
