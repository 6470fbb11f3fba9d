/**
 * SHA-256 of bytes as lowercase hex, with WebCrypto's `digest` (Deno, edge isolates, Node and
 * browsers alike). Most of what the calling thread pays is the copy WebCrypto takes of its input
 * (the spec asks for one): for a model's ten 1 MB shards, 5-7 ms in all here when the copies come
 * from a heap that reuses them (the classify task's `glibc.malloc.mmap_threshold`), up to 14 ms
 * when each is mapped and faulted in afresh. `node:crypto` hashes in place (8 ms for 10 MB), but
 * importing it loads Deno's Node layer first: 45-50 ms of a cold start.
 *
 * @module
 */
import { hex } from "../_util.ts";

/** Lowercase hex SHA-256 of `bytes`. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto refuses views of shared memory; those are copied first
  const own = bytes.buffer instanceof ArrayBuffer
    ? bytes as Uint8Array<ArrayBuffer>
    : new Uint8Array(bytes);
  return hex(new Uint8Array(await crypto.subtle.digest("SHA-256", own)));
}
