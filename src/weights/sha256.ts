/**
 * SHA-256 of bytes as lowercase hex, with `node:crypto`'s hash (in Deno, edge isolates and Node;
 * the tfjs packages load `node:crypto` anyway). It reads the bytes where they are: WebCrypto's
 * `digest` first copies its input (the spec asks for a copy), and for a model's 10 MB of shards
 * that copy and its fresh pages cost more than the hash itself on a cold start.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** Lowercase hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): Promise<string> {
  try {
    return Promise.resolve(createHash("sha256").update(bytes).digest("hex"));
  } catch (error) {
    return Promise.reject(error);
  }
}
