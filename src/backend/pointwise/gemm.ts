/**
 * How one GEMM is cut into work for the threads: row blocks sized for the cache, and a split of
 * the output between threads by rows or by column panels, whichever leaves the busiest thread
 * the least work.
 *
 * @module
 */

/** The tile of the kernel build and the row-block size rule. */
export interface Tiling {
  /** Rows of the register tile. */
  mr: number;
  /** Columns of a packed panel. */
  nr: number;
  /** Bytes of A (the input rows) a row block should hold. */
  blockBytes: number;
}

/** Default bytes of one row block of A: half a typical 256 KiB-1 MiB L2. */
export const DEFAULT_BLOCK_BYTES = 128 * 1024;

/** Rows per block: `blockBytes` of A, a multiple of `mr`, at least `mr`. */
export function rowBlock(k: number, tiling: Tiling): number {
  const rows = Math.floor(tiling.blockBytes / (4 * k) / tiling.mr) * tiling.mr;
  return Math.max(tiling.mr, rows);
}

/** The share of one thread: rows `[m0, m1)`, panels `[p0, p1)`. */
export interface Share {
  m0: number;
  m1: number;
  p0: number;
  p1: number;
}

/**
 * Splits an `m x n` output between `threads` threads (the caller first). By rows when that
 * leaves the busiest thread no more tiles than splitting the column panels, else by panels
 * (small `m`, wide `n`: each thread then reads only its part of the filter).
 */
export function split(m: number, n: number, threads: number, tiling: Tiling): Share[] {
  const panels = Math.ceil(n / tiling.nr);
  const tiles = (rows: number) => Math.ceil(rows / tiling.mr);
  const byRows = tiles(Math.ceil(m / threads)) * panels;
  const byPanels = tiles(m) * Math.ceil(panels / threads);
  const shares: Share[] = [];
  if (byRows <= byPanels) {
    // whole tiles per thread where possible, the remainder spread one tile at a time
    const total = tiles(m);
    for (let t = 0, start = 0; t < threads; t++) {
      const count = Math.floor(total / threads) + (t < total % threads ? 1 : 0);
      const end = Math.min(m, start + count * tiling.mr);
      if (end > start) shares.push({ m0: start, m1: end, p0: 0, p1: panels });
      start = end;
    }
  } else {
    for (let t = 0, start = 0; t < threads; t++) {
      const count = Math.floor(panels / threads) + (t < panels % threads ? 1 : 0);
      if (count > 0) shares.push({ m0: 0, m1: m, p0: start, p1: start + count });
      start += count;
    }
  }
  return shares;
}
