/**
 * The fuzzer's random numbers: sfc32 seeded from a string, so that every input is a pure
 * function of `(seed, format, iteration)` and a run can be replayed byte for byte. Only 32-bit
 * integer arithmetic is used (no `Math.random`, no floating-point state).
 *
 * @module
 */

/** Hashes a string into 32 bits (FNV-1a, then a final avalanche). */
function hash32(text: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A small, fast, seeded generator (sfc32).
 *
 * @example
 * ```ts
 * const rng = new Rng("seed 1/tiff/42");
 * rng.int(10); // the same number for the same key, every time
 * ```
 */
export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Creates a generator whose sequence depends only on `key`. */
  constructor(key: string) {
    this.#a = hash32(key, 1);
    this.#b = hash32(key, 2);
    this.#c = hash32(key, 3);
    this.#d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** An integer in `[0, n)`; `n` at least 1 and at most 2^32. */
  int(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }

  /** An integer in `[lo, hi]`. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability `p` (0..1). */
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /**
   * An integer in `[1, max]`, log-uniform: as likely to be under 10 as between 100 and 1000,
   * so that repeat counts are mostly small and sometimes huge.
   */
  logInt(max: number): number {
    if (max <= 1) return 1;
    const bits = Math.log2(max);
    const value = Math.floor(2 ** ((this.u32() / 4294967296) * bits));
    return Math.max(1, Math.min(max, value + this.int(2)));
  }

  /** An integer in `[lo, hi]` (`lo` at least 1), log-uniform. */
  logRange(lo: number, hi: number): number {
    const value = Math.floor(lo * (hi / lo) ** (this.u32() / 4294967296));
    return Math.max(lo, Math.min(hi, value));
  }

  /** One of `choices` by weight (`[weight, value]` pairs, weights positive). */
  weighted<T>(choices: readonly (readonly [number, T])[]): T {
    const total = choices.reduce((n, [w]) => n + w, 0);
    let r = (this.u32() / 4294967296) * total;
    for (const [w, value] of choices) {
      if (r < w) return value;
      r -= w;
    }
    return choices[choices.length - 1][1];
  }
}
