/**
 * Shard planning and tensor slicing on their own, without I/O: which shards a load reads for
 * which tensors, and tensors cut out of shards (also across a shard boundary) exactly.
 */
import { assert, assertEquals, assertRejects } from "../_assert.ts";
import { planShards, type ShardBytes, sliceTensors } from "../../src/weights/plan.ts";
import type { TensorEntry, WeightsManifest } from "../../src/weights/manifest.ts";
import { WeightsError } from "../../src/errors.ts";

// Three 100-byte shards: a [10] and b [25] in shard 0, b running 40 bytes into shard 1, c [15]
// ending exactly at the end of shard 1, d [25] filling shard 2.
const TENSORS: TensorEntry[] = [
  { name: "a", shape: [10], dtype: "float32", shard: 0, offset: 0, byteLength: 40 },
  { name: "b", shape: [25], dtype: "float32", shard: 0, offset: 40, byteLength: 100 },
  { name: "c", shape: [15], dtype: "float32", shard: 1, offset: 40, byteLength: 60 },
  { name: "d", shape: [25], dtype: "float32", shard: 2, offset: 0, byteLength: 100 },
];
const MANIFEST = {
  shards: [0, 1, 2].map((i) => ({ file: `shard-00${i}.bin`, byteLength: 100, sha256: "" })),
  tensors: TENSORS,
} as unknown as WeightsManifest;

/** 75 float32 values 0..74, as the three shards' bytes. */
const VALUES = Float32Array.from({ length: 75 }, (_, i) => i);
const ALL = new Uint8Array(VALUES.buffer);

async function* shards(indices: number[]): AsyncGenerator<ShardBytes> {
  for (const index of indices) yield { index, bytes: ALL.slice(index * 100, index * 100 + 100) };
}

async function collect(only?: (name: string) => boolean) {
  const plan = planShards(MANIFEST, only);
  const out = new Map<string, number[]>();
  for await (const { entry, data } of sliceTensors(plan, shards(plan.shards))) {
    out.set(entry.name, [...data]);
  }
  return { plan, out };
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

Deno.test("planShards: every shard for all tensors, with their offsets", () => {
  const plan = planShards(MANIFEST);
  assertEquals(plan.starts, [0, 100, 200]);
  assertEquals(plan.shards, [0, 1, 2]);
  assertEquals(plan.totalBytes, 300);
  assertEquals(plan.tensors.map((t) => [t.entry.name, t.start]), [
    ["a", 0],
    ["b", 40],
    ["c", 140],
    ["d", 200],
  ]);
});

Deno.test("planShards: only the shards holding a wanted byte", () => {
  const of = (...names: string[]) => planShards(MANIFEST, (n) => names.includes(n));
  assertEquals([of("a").shards, of("a").totalBytes], [[0], 100]);
  assertEquals(of("b").shards, [0, 1], "b spans shards 0 and 1");
  assertEquals(of("c").shards, [1], "c ends exactly at the end of shard 1");
  assertEquals([of("a", "d").shards, of("a", "d").totalBytes], [[0, 2], 200]);
  assertEquals([of().shards, of().totalBytes, of().tensors], [[], 0, []]);
});

Deno.test("sliceTensors: each tensor's values exactly, also one that spans two shards", async () => {
  const { out } = await collect();
  assertEquals([...out.keys()], ["a", "b", "c", "d"]);
  assertEquals(out.get("a"), range(0, 10));
  assertEquals(out.get("b"), range(10, 25));
  assertEquals(out.get("c"), range(35, 15));
  assertEquals(out.get("d"), range(50, 25));
  const { out: onlyB } = await collect((n) => n === "b");
  assertEquals([...onlyB.entries()], [["b", range(10, 25)]]);
  const { out: skipping } = await collect((n) => n === "a" || n === "d");
  assertEquals([...skipping.keys()], ["a", "d"]);
  assertEquals(skipping.get("d"), range(50, 25));
});

Deno.test("sliceTensors: a tensor spanning shards that lie one after the other in one buffer is a view, not a copy", async () => {
  const plan = planShards(MANIFEST);
  const whole = ALL.slice();
  async function* adjacent(): AsyncGenerator<ShardBytes> {
    for (const index of plan.shards) {
      yield { index, bytes: whole.subarray(index * 100, index * 100 + 100) };
    }
  }
  const got = new Map<string, Float32Array>();
  for await (const { entry, data } of sliceTensors(plan, adjacent())) got.set(entry.name, data);
  assertEquals([...got.get("b")!], range(10, 25));
  assert(got.get("b")!.buffer === whole.buffer, "b is a view of the shards' buffer");
  assertEquals(got.get("b")!.byteOffset, 40);
  // shards in separate buffers (a cached shard, say): b is assembled in a copy of its own
  async function* mixed(): AsyncGenerator<ShardBytes> {
    yield { index: 0, bytes: whole.subarray(0, 100) };
    yield { index: 1, bytes: ALL.slice(100, 200) };
    yield { index: 2, bytes: whole.subarray(200, 300) };
  }
  const copied = new Map<string, Float32Array>();
  for await (const { entry, data } of sliceTensors(plan, mixed())) copied.set(entry.name, data);
  assertEquals([...copied.get("b")!], range(10, 25));
  assert(copied.get("b")!.buffer !== whole.buffer, "b is a copy");
  assertEquals([...copied.get("c")!], range(35, 15));
});

Deno.test("sliceTensors: bytes that do not fit a tensor's shape are BAD_MANIFEST naming it", async () => {
  const bad = {
    ...MANIFEST,
    tensors: [{ ...TENSORS[0], shape: [11] }],
  } as WeightsManifest;
  const plan = planShards(bad);
  const error = await assertRejects(async () => {
    for await (const _ of sliceTensors(plan, shards(plan.shards))) { /* drain */ }
  }, WeightsError);
  assertEquals(error.code, "BAD_MANIFEST");
  assertEquals(error.message, "tensor a: 40 bytes do not fit shape [11] stored as float32");
});
