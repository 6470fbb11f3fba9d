/**
 * The byte-level pieces of the head file: float32 arrays as base64 (little-endian, the same on
 * every platform), and the canonical JSON text its own hash is taken over.
 *
 * @module
 */
import { sha256Hex } from "../weights/sha256.ts";

/** `values` as base64 of their little-endian float32 bytes. */
export function encodeFloats(values: Float32Array): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** The base64 length of `count` float32 values. */
export function encodedLength(count: number): number {
  return Math.ceil((count * 4) / 3) * 4;
}

/**
 * Decodes {@linkcode encodeFloats}' text; `undefined` when it is not base64 of `count` values
 * (checked from its length before anything is allocated).
 */
export function decodeFloats(text: string, count: number): Float32Array | undefined {
  if (text.length !== encodedLength(count) || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return;
  }
  if (binary.length !== count * 4) return;
  const view = new DataView(Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true));
}

/** JSON text with every object's keys sorted and no spaces: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The head's own hash: sha256 of the canonical JSON of everything but `sha256`. */
export function contentHash(body: Readonly<Record<string, unknown>>): Promise<string> {
  const { sha256: _, ...rest } = body;
  return sha256Hex(new TextEncoder().encode(canonicalJson(rest)));
}
