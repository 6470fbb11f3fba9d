/**
 * The fuzzer's building blocks: the seeded generator, the format parsers and the structure-aware
 * mutators (they edit what they say they edit, keep PNG CRCs right, respect the size cap), and
 * the minimiser.
 */
import { assert, assertEquals } from "../_assert.ts";
import { crc32 } from "../_png.ts";
import { encodeTiff } from "../image/_tiff.ts";
import { encodeGif } from "../image/_gif.ts";
import { Rng } from "../../tools/fuzz/rng.ts";
import { parseTiff, tiff, withEntries } from "../../tools/fuzz/formats/tiff.ts";
import { parsePng, png } from "../../tools/fuzz/formats/png.ts";
import { jpeg, parseJpeg } from "../../tools/fuzz/formats/jpeg.ts";
import { gif, parseGif } from "../../tools/fuzz/formats/gif.ts";
import { buildCorpus, zlibZeros } from "../../tools/fuzz/corpus.ts";
import { minimize } from "../../tools/fuzz/minimize.ts";
import { genericMutators } from "../../tools/fuzz/generic.ts";
import { type FormatMutators, type MutationContext, readUint } from "../../tools/fuzz/mutator.ts";
import { inflateSync } from "node:zlib";

const corpus = await buildCorpus(["png", "jpeg", "tiff", "gif"]);

function ctx(key: string, seeds: Uint8Array[], maxBytes = 1 << 20): MutationContext {
  return { rng: new Rng(key), seeds, maxBytes };
}

/** Applies the mutator called `name` with keys `name/0`, `name/1`, ... until it applies. */
function apply(format: FormatMutators, name: string, bytes: Uint8Array, seeds: Uint8Array[]) {
  const mutator = format.mutators.find((m) => m.name === name)!;
  for (let i = 0; i < 200; i++) {
    const result = mutator.apply(bytes, ctx(`${name}/${i}`, seeds));
    if (result) return result;
  }
  throw new Error(`${name} never applied`);
}

Deno.test("fuzz rng: a key gives one sequence; ranges hold", () => {
  const a = new Rng("k");
  const b = new Rng("k");
  const c = new Rng("other");
  const seqA = Array.from({ length: 50 }, () => a.u32());
  assertEquals(seqA, Array.from({ length: 50 }, () => b.u32()));
  assert(seqA.some((v, i) => v !== Array.from({ length: 50 }, () => c.u32())[i]));
  const r = new Rng("ranges");
  for (let i = 0; i < 2000; i++) {
    const n = r.int(7);
    assert(n >= 0 && n < 7 && Number.isInteger(n));
    const l = r.logInt(1000);
    assert(l >= 1 && l <= 1000);
    const x = r.range(-3, 3);
    assert(x >= -3 && x <= 3);
    const g = r.logRange(70, 10240);
    assert(g >= 70 && g <= 10240 && Number.isInteger(g));
  }
});

Deno.test("fuzz tiff: IFD parsed and rewritten; tags set, whole-file tags and many strips added", () => {
  const file = encodeTiff(new Uint8Array(8 * 4 * 3).fill(9), 8, 4, 3, {
    predictor: true,
    bigEndian: true,
  });
  const ifd = parseTiff(file)!;
  assertEquals(ifd.entries.map((e) => e.tag), [
    256,
    257,
    258,
    259,
    262,
    273,
    277,
    278,
    279,
    284,
    317,
  ]);
  const again = parseTiff(withEntries(file, ifd, ifd.entries))!;
  assertEquals(again.entries.map(({ at: _, ...e }) => e), ifd.entries.map(({ at: _, ...e }) => e));
  const tag = apply(tiff, "tiff.tag", file, [file]);
  const [, number, value] = /tag (\d+)=(\d+)/.exec(tag.note)!.map(Number);
  const set = parseTiff(tag.bytes)!.entries.find((e) => e.tag === number)!;
  assertEquals(readUint(set.value, 0, set.type === 3 ? 2 : 4, false), value);
  const whole = apply(tiff, "tiff.whole-file", file, [file]);
  const added = parseTiff(whole.bytes)!.entries.filter((e) => e.tag >= 40000);
  assert(added.length >= 1);
  for (const e of added) {
    assert(e.count * ({ 1: 1, 3: 2, 4: 4 } as Record<number, number>)[e.type] >= file.length);
  }
  const strips = apply(tiff, "tiff.strips", file, [file]);
  const entries = parseTiff(strips.bytes)!.entries;
  const n = Number(/(\d+) one-row strips/.exec(strips.note)![1]);
  assertEquals(entries.find((e) => e.tag === 273)!.count, n);
  assertEquals(entries.find((e) => e.tag === 279)!.count, n);
});

Deno.test("fuzz png: every structured mutation (and the fix-up after a generic one) leaves the CRCs right", () => {
  const seeds = corpus.png!.filter((s) => s.length < 50_000);
  let checked = 0;
  for (const m of png.mutators) {
    for (let i = 0; i < 40; i++) {
      const r = ctx(`${m.name}/${i}`, seeds);
      const result = m.apply(r.rng.pick(seeds), r);
      if (!result) continue;
      for (const c of parsePng(result.bytes)) {
        const end = c.at + 8 + c.data.length;
        if (end + 4 > result.bytes.length) break;
        assertEquals(
          readUint(result.bytes, end, 4, false),
          crc32(result.bytes.subarray(c.at + 4, end)),
          `${m.name}: ${result.note}`,
        );
        checked++;
      }
    }
  }
  const broken = seeds[3].slice();
  broken[20] ^= 0xff; // inside IHDR
  const fixed = png.fixup!(broken);
  assertEquals(readUint(fixed, 29, 4, false), crc32(fixed.subarray(12, 29)));
  assert(checked > 500);
});

Deno.test("fuzz jpeg: segments parsed; a scan duplicated is there that many more times", () => {
  const progressive = corpus.jpeg![16]; // jpeg_progressive.jpg
  const segments = parseJpeg(progressive);
  const scans = segments.filter((s) => s.marker === 0xda).length;
  assert(scans > 5, `a progressive JPEG has many scans, got ${scans}`);
  assertEquals(segments.at(-1)!.marker, 0xd9);
  for (let i = 0; i < 400; i++) {
    const result = jpeg.mutators[0].apply(progressive, ctx(`jpeg.segment/${i}`, [progressive]));
    const dup = result && /^dup da@\d+ x(\d+)$/.exec(result.note);
    if (!dup) continue;
    assertEquals(
      parseJpeg(result.bytes).filter((s) => s.marker === 0xda).length,
      scans + Number(dup[1]),
    );
    return;
  }
  throw new Error("no scan was duplicated");
});

Deno.test("fuzz gif: blocks parsed; the descriptor edit sets the field it names", () => {
  const file = encodeGif(new Uint8Array(5 * 3 * 3), 5, 3);
  assertEquals(parseGif(file).map((b) => b.kind), ["image", "trailer"]);
  for (let i = 0; i < 100; i++) {
    const r = gif.mutators[0].apply(file, ctx(`gif/${i}`, [file]))!;
    const m = /^screen (width|height)=(\d+)$/.exec(r.note);
    if (!m) continue;
    assertEquals(readUint(r.bytes, m[1] === "width" ? 6 : 8, 2, true), Number(m[2]));
    return;
  }
  throw new Error("no screen size edit");
});

Deno.test("fuzz mutators: no mutation goes over the size cap", () => {
  const all = [
    ...genericMutators(() => []),
    ...tiff.mutators,
    ...png.mutators,
    ...jpeg.mutators,
    ...gif.mutators,
  ];
  const seeds = [corpus.tiff![0], corpus.png![5], corpus.jpeg![1], corpus.gif![1]];
  for (const m of all) {
    for (let i = 0; i < 30; i++) {
      const r = ctx(`cap ${m.name}/${i}`, seeds, 64 * 1024);
      const result = m.apply(r.rng.pick(seeds), r);
      if (result) assert(result.bytes.length <= 64 * 1024 + 1024, `${m.name}: ${result.note}`);
    }
  }
});

Deno.test("fuzz corpus: the tile bomb's zlib stream inflates to exactly its zeros", () => {
  const zeros = inflateSync(zlibZeros(4 << 20));
  assertEquals(zeros.length, 4 << 20);
  assert(zeros.every((v: number) => v === 0));
});

Deno.test("fuzz minimize: shrinks to what still fails, within its budget", async () => {
  const rng = new Rng("minimize");
  const noise = Uint8Array.from({ length: 3000 }, () => 97 + rng.int(20));
  const needle = new TextEncoder().encode("NEEDLE");
  noise.set(needle, 1234);
  const has = (b: Uint8Array) => new TextDecoder().decode(b).includes("NEEDLE");
  const found = await minimize(noise, (b) => Promise.resolve(has(b)), {
    maxTests: 10_000,
    deadline: Infinity,
  });
  assertEquals(new TextDecoder().decode(found.bytes), "NEEDLE");
  const capped = await minimize(noise, (b) => Promise.resolve(has(b)), {
    maxTests: 5,
    deadline: Infinity,
  });
  assertEquals(capped.tests, 5);
  assert(has(capped.bytes) && capped.bytes.length < noise.length);
});

Deno.test("fuzz tiff: removing bytes for the minimiser keeps the strips and the IFD pointing right", () => {
  const pixels = Uint8Array.from({ length: 6 * 4 * 3 }, (_, i) => i);
  for (const bigEndian of [false, true]) {
    const file = encodeTiff(pixels, 6, 4, 3, { rowsPerStrip: 2, bigEndian, orientation: 6 });
    const ifd = parseTiff(file)!;
    const offsets = (b: Uint8Array) => {
      const e = parseTiff(b)!.entries.find((e) => e.tag === 273)!;
      const at = readUint(e.value, 0, 4, !bigEndian);
      return [0, 1].map((i) => readUint(b, at + 4 * i, 4, !bigEndian));
    };
    const [first, second] = offsets(file);
    // drop the first strip's first 5 bytes: the second strip's data is still where it says
    const cut = tiff.remove!(file, first, 5);
    const [, moved] = offsets(cut);
    assertEquals(cut.subarray(moved, moved + 12), file.subarray(second, second + 12));
    assertEquals(parseTiff(cut)!.entries.map((e) => e.tag), ifd.entries.map((e) => e.tag));
  }
});

Deno.test("fuzz mutators: no mutator throws on cut, tiny or one-segment inputs", () => {
  // A campaign once stopped at 119,293 inputs: moving the one segment of a JPEG that was nothing
  // else inserted it at offset 2 of the empty rest.
  const formats = { jpeg, png, tiff, gif } as const;
  for (const [name, format] of Object.entries(formats)) {
    const seeds = corpus[name as keyof typeof formats]!;
    const odd = [
      new Uint8Array(0),
      Uint8Array.of(0xff),
      Uint8Array.of(0xff, 0xe0, 0x00, 0x02),
      Uint8Array.of(0xff, 0xda, 0x00, 0x02, 1, 2, 3),
      ...seeds.slice(0, 3).flatMap((s) =>
        [1, 2, 3, 8, 16, 33, s.length >> 1].map((n) => s.slice(0, n))
      ),
      ...seeds.slice(0, 3).map((s) => s.slice(2)),
    ];
    for (
      const mutator of [...format.mutators, ...genericMutators(format.hotOffsets ?? (() => []))]
    ) {
      for (const [i, bytes] of odd.entries()) {
        for (let k = 0; k < 12; k++) {
          try {
            const result = mutator.apply(bytes, ctx(`${name}/${mutator.name}/${i}/${k}`, seeds));
            if (result) assert(result.bytes instanceof Uint8Array);
          } catch (error) {
            throw new Error(`${name} ${mutator.name} on odd input ${i} (key ${k}): ${error}`);
          }
        }
      }
    }
  }
});
