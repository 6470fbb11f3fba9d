/**
 * Quantized storage of weight tensors and its inverse: IEEE half floats (`float16`) and affine
 * 8-bit integers (`uint8`, `value = (q - zeroPoint) * scale`, one scale per tensor or one per
 * channel along an axis). Writers quantize with {@linkcode quantizeTensor}; the loader turns the
 * stored bytes back into float32 with {@linkcode dequantize}. Pure functions on typed arrays;
 * every multi-byte value is little-endian, as in `weights/FORMAT.md`.
 *
 * @module
 */
import type { Quantization } from "./manifest.ts";
import { sizeOf } from "../_util.ts";

/** What a tensor is stored as. */
export type QuantizeDtype = "float32" | "float16" | "uint8";

/** Options of {@linkcode quantizeTensor}. */
export interface QuantizeOptions {
  /**
   * Storage type.
   * @default {"float32"}
   */
  dtype?: QuantizeDtype;
  /**
   * uint8 only: the axis to give each channel its own scale and zero point, or `undefined` for
   * one scale for the whole tensor.
   * @default {undefined}
   */
  axis?: number;
}

/** A tensor's stored bytes and, when quantized, how to read them back. */
export interface QuantizedTensor {
  /** The stored bytes (little-endian). */
  bytes: Uint8Array;
  /** Absent for float32. */
  quantization?: Quantization;
}

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** Converts a float32 value to the bits of the nearest IEEE 754 half (round to nearest even). */
export function toFloat16Bits(value: number): number {
  F32[0] = value;
  const x = U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf or NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    if (e < -10) return sign; // underflow to signed zero
    mant |= 0x800000; // subnormal half: shift the implicit bit in
    const shift = 14 - e;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (half + (rest > mid || (rest === mid && (half & 1)) ? 1 : 0));
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1))) half++; // may carry into the exponent
  e = half >>> 10;
  return sign | (e >= 0x1f ? 0x7c00 : half);
}

/** Converts the bits of an IEEE 754 half to its (exact) float32 value. */
export function fromFloat16Bits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function checkAxis(shape: readonly number[], axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= shape.length) {
    throw new RangeError(`axis must be an integer in [0, ${shape.length}), got ${axis}`);
  }
}

/** Number of elements after `axis` (the stride of one step along it). */
function innerSize(shape: readonly number[], axis: number): number {
  return sizeOf(shape.slice(axis + 1));
}

/** Scale and zero point mapping [min, max] (widened to include 0) onto 0..255. */
function affine(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / scale)));
  return { scale, zeroPoint };
}

/**
 * Stores `data` (of `shape`) as `options.dtype`. float32 is copied as is; float16 rounds each
 * value to the nearest half; uint8 maps each tensor (or each channel along `options.axis`)
 * linearly onto 0..255 with a range widened to include 0, so that zero stays exact.
 *
 * @throws {RangeError} for a data length that does not fit the shape, a bad axis, or an axis
 * given for a dtype other than uint8; {@linkcode TypeError} for an unknown dtype.
 */
export function quantizeTensor(
  data: Float32Array,
  shape: readonly number[],
  options: QuantizeOptions = {},
): QuantizedTensor {
  const dtype = options.dtype ?? "float32";
  const size = sizeOf(shape);
  if (data.length !== size) {
    throw new RangeError(`data has ${data.length} values, shape [${shape}] needs ${size}`);
  }
  if (options.axis !== undefined && dtype !== "uint8") {
    throw new RangeError(`a per-channel axis only applies to uint8, not ${dtype}`);
  }
  if (dtype === "float32") {
    return { bytes: new Uint8Array(data.slice().buffer) };
  }
  if (dtype === "float16") {
    const out = new Uint8Array(size * 2);
    const view = new DataView(out.buffer);
    for (let i = 0; i < size; i++) view.setUint16(i * 2, toFloat16Bits(data[i]), true);
    return { bytes: out, quantization: { dtype: "float16" } };
  }
  if (dtype !== "uint8") {
    throw new TypeError(`dtype must be "float32", "float16" or "uint8", got ${String(dtype)}`);
  }
  return options.axis === undefined
    ? uint8PerTensor(data)
    : uint8PerChannel(data, shape, options.axis);
}

/** uint8 with one scale and zero point for the whole tensor. */
function uint8PerTensor(data: Float32Array): QuantizedTensor {
  let min = Infinity;
  let max = -Infinity;
  for (const v of data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const { scale, zeroPoint } = affine(min, max);
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    out[i] = Math.min(255, Math.max(0, Math.round(data[i] / scale) + zeroPoint));
  }
  return { bytes: out, quantization: { dtype: "uint8", scale, zeroPoint } };
}

/** uint8 with one scale and zero point per channel along `axis`. */
function uint8PerChannel(
  data: Float32Array,
  shape: readonly number[],
  axis: number,
): QuantizedTensor {
  checkAxis(shape, axis);
  const size = data.length;
  const out = new Uint8Array(size);
  const channels = shape[axis];
  const inner = innerSize(shape, axis);
  const mins = new Array<number>(channels).fill(Infinity);
  const maxs = new Array<number>(channels).fill(-Infinity);
  for (let i = 0; i < size; i++) {
    const c = Math.floor(i / inner) % channels;
    if (data[i] < mins[c]) mins[c] = data[i];
    if (data[i] > maxs[c]) maxs[c] = data[i];
  }
  const params = mins.map((min, c) => affine(min, maxs[c]));
  for (let i = 0; i < size; i++) {
    const { scale, zeroPoint } = params[Math.floor(i / inner) % channels];
    out[i] = Math.min(255, Math.max(0, Math.round(data[i] / scale) + zeroPoint));
  }
  return {
    bytes: out,
    quantization: {
      dtype: "uint8",
      scale: params.map((p) => p.scale),
      zeroPoint: params.map((p) => p.zeroPoint),
      axis,
    },
  };
}

/**
 * Turns a tensor's stored bytes back into float32 values: float32 bytes are viewed (copied only
 * when not 4-byte aligned), float16 and uint8 are dequantized into a new array.
 *
 * @throws {RangeError} when the byte length does not fit the shape and storage type.
 */
export function dequantize(
  bytes: Uint8Array,
  shape: readonly number[],
  quantization?: Quantization,
): Float32Array {
  const size = sizeOf(shape);
  const stored = quantization?.dtype ?? "float32";
  const width = stored === "float32" ? 4 : stored === "float16" ? 2 : 1;
  if (bytes.byteLength !== size * width) {
    throw new RangeError(
      `${bytes.byteLength} bytes do not fit shape [${shape}] stored as ${stored}`,
    );
  }
  if (!quantization) {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Float32Array(aligned.buffer, aligned.byteOffset, size);
  }
  const out = new Float32Array(size);
  if (quantization.dtype === "float16") {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < size; i++) out[i] = fromFloat16Bits(view.getUint16(i * 2, true));
    return out;
  }
  const { scale, zeroPoint } = quantization;
  if (typeof scale === "number") {
    const zp = (zeroPoint ?? 0) as number;
    for (let i = 0; i < size; i++) out[i] = (bytes[i] - zp) * scale;
    return out;
  }
  const axis = quantization.axis!;
  const scales = scale as number[];
  const zps = (zeroPoint ?? scales.map(() => 0)) as number[];
  const channels = shape[axis];
  const inner = innerSize(shape, axis);
  for (let i = 0; i < size; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (bytes[i] - zps[c]) * scales[c];
  }
  return out;
}
