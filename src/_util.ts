/**
 * Small private helpers shared by every layer: one home each. This module imports nothing, so
 * any module may use it without creating a dependency between layers (it is the one exception
 * to "`src/backend/` imports nothing of ours").
 *
 * @module
 */

/** The message of an unknown thrown value (an `Error`, an object with a `message`, anything). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === "object" && "message" in error) {
    return String((error as { message: unknown }).message);
  }
  return String(error);
}

/** The media type of a `Content-Type` header, lower case, without parameters ("" if none). */
export function mediaType(header: string | null): string {
  return (header ?? "").split(";")[0].trim().toLowerCase();
}

/**
 * `value` rounded to `digits` decimals, as the JSON outputs print numbers (probabilities to 6,
 * milliseconds to 2).
 */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The median of some numbers (the mean of the middle two for an even count; NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * A seeded pseudo-random generator (mulberry32): numbers in [0, 1), the same sequence for the
 * same seed on every platform. For reproducible weights, draws and folds; never for secrets.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Number of elements of a shape: the product of its sides (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const side of shape) size *= side;
  return size;
}

/**
 * Settles like `promise`, or rejects with `timeoutError()` when `ms` milliseconds pass first.
 * The timer is cleared as soon as either happens, so nothing is left pending.
 *
 * @example
 * ```ts
 * import { withTimeout } from "./_util.ts";
 *
 * const ready = new Promise<string>((resolve) => setTimeout(() => resolve("ready"), 10));
 * await withTimeout(ready, 1000, () => new Error("not ready within 1000 ms")); // "ready"
 * ```
 */
export function withTimeout<T>(
  promise: PromiseLike<T>,
  ms: number,
  timeoutError: () => Error,
): Promise<T> {
  const expired = Promise.withResolvers<never>();
  const timer = setTimeout(() => expired.reject(timeoutError()), ms);
  return Promise.race([promise, expired.promise]).finally(() => clearTimeout(timer));
}

/** The bytes of `parts`, one after another, in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const part of parts) size += part.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/**
 * Copies `count` bytes of `from`, starting at `fromAt`, into `to` at `toAt`. A short run is
 * copied in a loop, which costs less than a view and `set` (decoders copy millions of tiny rows
 * or chunks).
 */
export function copyBytes(
  from: Uint8Array,
  fromAt: number,
  to: Uint8Array | Uint8ClampedArray,
  toAt: number,
  count: number,
): void {
  if (count < 64) {
    for (let i = 0; i < count; i++) to[toAt + i] = from[fromAt + i];
  } else {
    to.set(from.subarray(fromAt, fromAt + count), toAt);
  }
}

/**
 * Reads a stream whole, stopping as soon as more than `limit` bytes have arrived: the stream is
 * cancelled and `tooLarge()` is thrown (the rest is never read).
 */
export async function readAtMost(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  tooLarge: () => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks);
}

/** Reads one environment variable, or `undefined` when unset or not permitted. */
export type EnvReader = (name: string) => string | undefined;

/** Values {@linkcode readEnv} gives instead of the environment's, in this isolate only. */
const envOverrides = new Map<string, string | undefined>();

/**
 * Makes {@linkcode readEnv} in this isolate (this worker, this test module) see `value` for
 * `name` (`undefined`: unset) until the returned function is called. For tests: `Deno.env` is
 * the whole process's, so a test that set it would change what test modules running beside it
 * (`deno test --parallel`) and their child processes see.
 */
export function overrideEnv(name: string, value: string | undefined): () => void {
  const had = envOverrides.has(name);
  const saved = envOverrides.get(name);
  envOverrides.set(name, value);
  return () => {
    if (had) envOverrides.set(name, saved);
    else envOverrides.delete(name);
  };
}

/**
 * Reads an environment variable if `--allow-env` already grants it: never prompts, never throws;
 * `undefined` when it is unset, not granted, or there is no `Deno` namespace. Where the runtime
 * has no permission query (some edge runtimes), it just tries to read.
 */
export function readEnv(name: string): string | undefined {
  if (envOverrides.has(name)) return envOverrides.get(name);
  if (typeof Deno === "undefined") return undefined;
  try {
    const status = Deno.permissions?.querySync?.({ name: "env", variable: name });
    if (status && status.state !== "granted") return undefined;
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Marks a phase of the cold path (`performance.mark("mobilenet-edge:<name>")`). */
export function mark(name: string): void {
  performance.mark(`mobilenet-edge:${name}`);
}

const marked = new Set<string>();

/**
 * {@linkcode mark}, the first time only: a phase of every call whose first one is on the cold
 * path (a server's timeline gets one entry, not one per request).
 */
export function markFirst(name: string): void {
  if (marked.has(name)) return;
  marked.add(name);
  mark(name);
}

/** Lets the process exit while `timer` is pending (where the runtime can; else nothing). */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno?.unrefTimer?.(
    timer as unknown as number,
  );
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `bytes` as lowercase hex, two digits each. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX[byte];
  return out;
}

/**
 * Decodes base64 text (ASCII whitespace ignored) into bytes: with `Uint8Array.fromBase64` where
 * the runtime has it (a fraction of a millisecond for an embedded WASM binary), else `atob`.
 *
 * @throws {SyntaxError} (or the runtime's error) for text that is not base64.
 */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const native = (Uint8Array as { fromBase64?: (text: string) => Uint8Array<ArrayBuffer> })
    .fromBase64;
  if (native) return native(text);
  const binary = atob(text.replace(/\s+/g, ""));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Whether `scale` can be an int8 layer's input scale: a number whose float32 value and the
 * float32 of its inverse are both positive and finite (the kernel multiplies by the inverse).
 */
export function isInt8Scale(scale: unknown): scale is number {
  if (typeof scale !== "number") return false;
  const s = Math.fround(scale);
  return s > 0 && Number.isFinite(s) && Number.isFinite(Math.fround(1 / s));
}
