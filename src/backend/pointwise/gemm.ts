/**
 * How one GEMM is cut into chunks that the threads take one at a time (dynamic scheduling: a
 * thread that gets less CPU, on a machine shared with other work, simply takes fewer chunks).
 * Chunks are rectangles of whole register tiles: row ranges (multiples of the tile's rows) by
 * panel ranges; row blocks inside a chunk are sized for the cache.
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

/** Chunks per thread: enough for a thread that falls behind to leave its share to others. */
export const CHUNKS_PER_THREAD = 4;

/** Most chunks of one GEMM (the control block's chunk counter has 10 bits). */
export const MAX_CHUNKS = 1023;

/** Rows per block: `blockBytes` of A, a multiple of `mr`, at least `mr`. */
export function rowBlock(k: number, tiling: Tiling): number {
  const rows = Math.floor(tiling.blockBytes / (4 * k) / tiling.mr) * tiling.mr;
  return Math.max(tiling.mr, rows);
}

/** The rows `[m0, m1)` and panels `[p0, p1)` of one chunk. */
export interface Share {
  m0: number;
  m1: number;
  p0: number;
  p1: number;
}

/** How an `m x n` GEMM is cut: `rowChunks x panelChunks` chunks of `rows` rows, `panels` panels. */
export interface Chunking {
  /** Rows of the output. */
  m: number;
  /** Panels of the output (`ceil(n / nr)`). */
  panelCount: number;
  /** Rows per chunk (a multiple of the tile's rows; the last chunk may have fewer). */
  rows: number;
  /** Panels per chunk (the last chunk may have fewer). */
  panels: number;
  /** Chunks along the panels. */
  panelChunks: number;
  /** All chunks. */
  count: number;
}

/**
 * Cuts an `m x n` output for `threads` threads into about `CHUNKS_PER_THREAD * threads` chunks
 * (one chunk for one thread). Along the rows when the output has more rows than columns (each
 * chunk then reads all of the filter and its own rows of the input), else along the panels
 * (small `m`, wide `n`: each chunk reads its part of the filter).
 */
export function chunking(m: number, n: number, threads: number, tiling: Tiling): Chunking {
  const panelCount = Math.ceil(n / tiling.nr);
  const tiles = Math.ceil(m / tiling.mr);
  const wanted = threads <= 1 ? 1 : Math.min(MAX_CHUNKS, CHUNKS_PER_THREAD * threads);
  let rowChunks = 1;
  let panelChunks = 1;
  if (m >= n) rowChunks = Math.min(tiles, wanted);
  else panelChunks = Math.min(panelCount, wanted);
  const rows = Math.ceil(tiles / rowChunks) * tiling.mr;
  const panels = Math.ceil(panelCount / panelChunks);
  rowChunks = Math.ceil(m / rows);
  panelChunks = Math.ceil(panelCount / panels);
  return { m, panelCount, rows, panels, panelChunks, count: rowChunks * panelChunks };
}

/** Chunk `index` of `c` (0 <= index < c.count). */
export function chunkAt(c: Chunking, index: number): Share {
  const r = Math.floor(index / c.panelChunks);
  const p = index - r * c.panelChunks;
  const m0 = r * c.rows;
  const p0 = p * c.panels;
  return { m0, m1: Math.min(c.m, m0 + c.rows), p0, p1: Math.min(c.panelCount, p0 + c.panels) };
}
