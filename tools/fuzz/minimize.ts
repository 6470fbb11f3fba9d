/**
 * Shrinks a finding while it keeps failing the same way: delta debugging by removal, first of
 * halves, then of smaller and smaller chunks (ddmin's complement step, greedy), within a budget
 * of runs and time, since each run of a hang costs a whole time bound. A format can remove
 * bytes its own way (TIFF fixes up the offsets after the removed range, so that its IFD and
 * strips still point at what they pointed at).
 *
 * @module
 */

/** Limits of one minimisation. */
export interface MinimizeBudget {
  /** Stop trying after this many runs. */
  maxTests: number;
  /** Stop trying after this time (`performance.now()` ms). */
  deadline: number;
}

/** Removes `count` bytes at `at`: plainly, or fixing up the offsets a format stores. */
export type Remover = (bytes: Uint8Array, at: number, count: number) => Uint8Array;

/** Removes `count` bytes at `at`. */
export function removeRange(bytes: Uint8Array, at: number, count: number): Uint8Array {
  const out = new Uint8Array(bytes.length - count);
  out.set(bytes.subarray(0, at));
  out.set(bytes.subarray(at + count), at);
  return out;
}

/**
 * Removes chunks from `bytes` (with `remove`, by default plainly) while `stillFails` holds, largest chunks first.
 *
 * @returns the smallest input found that still fails, and how many runs it took
 */
export async function minimize(
  bytes: Uint8Array,
  stillFails: (candidate: Uint8Array) => Promise<boolean>,
  budget: MinimizeBudget,
  remove: Remover = removeRange,
): Promise<{ bytes: Uint8Array; tests: number }> {
  let best = bytes;
  let tests = 0;
  const spent = () => tests >= budget.maxTests || performance.now() >= budget.deadline;
  for (
    let chunk = 2 ** Math.floor(Math.log2(Math.max(1, best.length >> 1)));
    chunk >= 1;
    chunk >>= 1
  ) {
    for (let at = best.length - chunk; at >= 0 && !spent(); at -= chunk) {
      const candidate = remove(best, at, chunk);
      tests++;
      if (await stillFails(candidate)) best = candidate;
    }
    if (spent()) break;
  }
  return { bytes: best, tests };
}
