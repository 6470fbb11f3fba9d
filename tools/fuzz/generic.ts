/**
 * Format-blind mutators, as AFL's "havoc" stage has them: bit flips, random and interesting
 * bytes and integers (at random offsets or at the offsets of the format's length and count
 * fields), arithmetic on integers, and inserting, deleting, duplicating, overwriting, splicing
 * and truncating ranges.
 *
 * @module
 */
import {
  copiesUnder,
  interesting,
  type Mutation,
  type MutationContext,
  type Mutator,
  readUint,
  repeatBytes,
  replaceRange,
  writeUint,
} from "./mutator.ts";

/** A random range `[at, at + length)` of at most `max` bytes inside `bytes`. */
function range(bytes: Uint8Array, ctx: MutationContext, max = bytes.length): [number, number] {
  const length = Math.min(bytes.length, ctx.rng.logInt(Math.max(1, max)));
  return [ctx.rng.int(bytes.length - length + 1), length];
}

function flipBits(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  if (bytes.length === 0) return undefined;
  const out = bytes.slice();
  const count = rng.range(1, 4);
  for (let i = 0; i < count; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
  return { bytes: out, note: `flip ${count} bits` };
}

function randomBytes(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  if (bytes.length === 0) return undefined;
  const out = bytes.slice();
  const count = rng.range(1, 4);
  for (let i = 0; i < count; i++) out[rng.int(out.length)] = rng.int(256);
  return { bytes: out, note: `${count} random bytes` };
}

/** An interesting or nudged integer, at a random offset or at one of `hot`. */
function integer(
  bytes: Uint8Array,
  ctx: MutationContext,
  hot: readonly number[],
): Mutation | undefined {
  const { rng } = ctx;
  const size = rng.pick([1, 2, 2, 4, 4]);
  if (bytes.length < size) return undefined;
  const useHot = hot.length > 0 && rng.chance(0.6);
  const at = useHot
    ? Math.min(rng.pick(hot), bytes.length - size)
    : rng.int(bytes.length - size + 1);
  const little = rng.chance(0.5);
  const old = readUint(bytes, at, size, little);
  const max = 2 ** (8 * size);
  const value = rng.chance(0.7)
    ? interesting(rng, size)
    : (old + (rng.chance(0.5) ? 1 : -1) * rng.range(1, 35) + max) % max;
  const out = bytes.slice();
  writeUint(out, at, size, value, little);
  return { bytes: out, note: `u${8 * size}${little ? "le" : "be"}@${at}=${value}` };
}

function insert(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  const big = rng.chance(0.05);
  const count = Math.min(rng.logInt(big ? 1 << 20 : 256), copiesUnder(ctx, bytes.length, 1));
  if (count < 1) return undefined;
  const at = rng.int(bytes.length + 1);
  const run = rng.chance(0.5);
  const block = run ? new Uint8Array(count).fill(rng.pick([0, 0xff, rng.int(256)])) : (() => {
    const b = new Uint8Array(count);
    for (let i = 0; i < count; i++) b[i] = rng.int(256);
    return b;
  })();
  return {
    bytes: replaceRange(bytes, at, 0, block),
    note: `insert ${count} ${run ? `x${block[0]}` : "random"}@${at}`,
  };
}

function remove(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  if (bytes.length < 2) return undefined;
  const [at, length] = range(bytes, ctx, bytes.length >> 1);
  return { bytes: replaceRange(bytes, at, length), note: `delete ${length}@${at}` };
}

function duplicate(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  if (bytes.length === 0) return undefined;
  const { rng } = ctx;
  const [from, length] = range(bytes, ctx, 4096);
  const times = Math.min(
    rng.chance(0.1) ? rng.logInt(10000) : 1,
    copiesUnder(ctx, bytes.length, length),
  );
  if (times < 1) return undefined;
  const to = rng.int(bytes.length + 1);
  const block = repeatBytes(bytes.slice(from, from + length), times);
  return {
    bytes: replaceRange(bytes, to, 0, block),
    note: `duplicate ${length}@${from} x${times} to ${to}`,
  };
}

function overwrite(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  if (bytes.length < 2) return undefined;
  const [from, length] = range(bytes, ctx, 1024);
  const to = ctx.rng.int(bytes.length - length + 1);
  const out = bytes.slice();
  out.set(bytes.subarray(from, from + length), to);
  return { bytes: out, note: `copy ${length}@${from} to ${to}` };
}

function splice(bytes: Uint8Array, ctx: MutationContext): Mutation | undefined {
  const { rng } = ctx;
  if (ctx.seeds.length === 0) return undefined;
  const other = rng.pick(ctx.seeds);
  const cut = rng.int(bytes.length + 1);
  const from = rng.int(other.length + 1);
  const tail = other.subarray(from, from + copiesUnder(ctx, cut, 1));
  const out = new Uint8Array(cut + tail.length);
  out.set(bytes.subarray(0, cut));
  out.set(tail, cut);
  return { bytes: out, note: `splice ${cut} + seed[${from}..]` };
}

function truncate(bytes: Uint8Array, { rng }: MutationContext): Mutation | undefined {
  if (bytes.length < 2) return undefined;
  const keep = rng.int(bytes.length);
  return { bytes: bytes.slice(0, keep), note: `truncate to ${keep}` };
}

/**
 * The generic mutators. `hot` gives the format's structure offsets (length and count fields)
 * to the integer mutator.
 */
export function genericMutators(hot: (bytes: Uint8Array) => number[]): Mutator[] {
  return [
    { name: "flip", weight: 3, apply: flipBits },
    { name: "byte", weight: 2, apply: randomBytes },
    { name: "int", weight: 5, apply: (b, ctx) => integer(b, ctx, hot(b)) },
    { name: "insert", weight: 1, apply: insert },
    { name: "delete", weight: 1, apply: remove },
    { name: "dup", weight: 1, apply: duplicate },
    { name: "copy", weight: 1, apply: overwrite },
    { name: "splice", weight: 1, apply: splice },
    { name: "truncate", weight: 1, apply: truncate },
  ];
}
