/**
 * Loader and thin wrapper of libjpeg-turbo compiled to WebAssembly (the TurboJPEG functions
 * `tjInitDecompress`, `tjDecompress2`, `tjDestroy`, `malloc`, `free`), built from Debian's
 * libjpeg-turbo 2.1.5 with clang -O3 and hand-written WASM SIMD kernels by
 * `tools/jpeg_wasm/build.sh`. It needs WebAssembly SIMD and bulk memory, which every V8 runtime
 * we target has (Deno, Deno Deploy, Supabase Edge).
 *
 * Loading: the binary is embedded as base64 in `turbo_wasm.ts`, decoded (`Uint8Array.fromBase64`,
 * else `atob`) and compiled with `WebAssembly.compile` once per isolate (about 190 KB, 4-7 ms).
 * No file-system read, no `fetch`, no permission (it runs under `deno run` with no `--allow-*`
 * flag), no worker, no native addon, nothing architecture-specific: it needs only base64 decoding
 * and `WebAssembly.compile` of bytes, which the Deno CLI (x86-64, arm64), `deno compile` and edge
 * isolates (Deno Deploy, Supabase Edge) provide. (Verified here: Deno CLI x86-64 without
 * permissions; the others by construction.)
 * The module's imports are a `setjmp`/`longjmp` pair and a few WASI stubs; libjpeg's fatal
 * errors arrive as a thrown `longjmp`, after which the instance is thrown away and a fresh one
 * made from the compiled module on the next call.
 *
 * @module
 */
import { JpegError } from "./errors.ts";
import { JPEG_TURBO_WASM_BASE64 } from "./turbo_wasm.ts";
import { decodeBase64 } from "../../_util.ts";
import { adviseHugePages } from "../../huge_pages.ts";

/** TurboJPEG pixel format: 3 bytes per pixel, R G B. */
export const TJPF_RGB = 0;
/** TurboJPEG pixel format: 4 bytes per pixel, R G B A (A = 255). */
export const TJPF_RGBA = 7;
/** TurboJPEG pixel format: 4 bytes per pixel, C M Y K as stored in the JPEG (Adobe: inverted). */
export const TJPF_CMYK = 11;

/** Bytes per pixel of each pixel format used here. */
const PIXEL_SIZE: Record<number, number> = { [TJPF_RGB]: 3, [TJPF_RGBA]: 4, [TJPF_CMYK]: 4 };

/** After a decode leaves the WASM memory larger than this, the instance is dropped to free it. */
const MAX_RETAINED_MEMORY = 128 * 1024 * 1024;

/** The functions the WebAssembly module exports. */
interface TurboExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  tjDecompress2(
    handle: number,
    jpeg: number,
    jpegSize: number,
    dst: number,
    width: number,
    pitch: number,
    height: number,
    pixelFormat: number,
    flags: number,
  ): number;
}

/** Thrown by the `longjmp` import: libjpeg called its fatal `error_exit`. */
class LongjmpSignal extends Error {}

let compiled: Promise<WebAssembly.Module> | undefined;
let instance: Promise<TurboExports> | undefined;

/** Decodes the embedded base64 text into the WebAssembly binary. */
function wasmBytes(): Uint8Array<ArrayBuffer> {
  return decodeBase64(JPEG_TURBO_WASM_BASE64);
}

/**
 * The imports the libjpeg-turbo module needs: `setjmp`/`longjmp` (a fatal error arrives as a
 * thrown `longjmp`) and WASI stubs (no environment, no files). Also used by the build tools.
 */
export function turboImports(memory: () => WebAssembly.Memory): WebAssembly.Imports {
  const unavailable = (name: string) => () => {
    throw new Error(`libjpeg-turbo WASM called ${name}, which is not available`);
  };
  return {
    env: {
      setjmp: () => 0,
      longjmp: () => {
        throw new LongjmpSignal("libjpeg error_exit");
      },
    },
    wasi_snapshot_preview1: {
      environ_sizes_get: (count: number, size: number) => {
        const view = new DataView(memory().buffer);
        view.setUint32(count, 0, true);
        view.setUint32(size, 0, true);
        return 0;
      },
      environ_get: () => 0,
      proc_exit: unavailable("proc_exit"),
      fd_close: unavailable("fd_close"),
      fd_seek: unavailable("fd_seek"),
      fd_write: unavailable("fd_write"),
    },
  };
}

/**
 * Compiles (once per isolate) and instantiates (once, and again after a fatal error) the
 * libjpeg-turbo module. Exported so that a server can warm it up before the first request.
 *
 * @returns when the decoder is ready
 */
export async function loadTurbo(): Promise<void> {
  await getTurbo();
}

function getTurbo(): Promise<TurboExports> {
  if (instance) return instance;
  const created = (async () => {
    compiled ??= WebAssembly.compile(wasmBytes());
    const holder: { exports?: TurboExports } = {};
    const result = await WebAssembly.instantiate(
      await compiled,
      turboImports(() => holder.exports!.memory),
    );
    holder.exports = result.exports as unknown as TurboExports;
    // a first decode writes a megabyte or more of fresh pages (see huge_pages.ts)
    adviseHugePages(holder.exports.memory);
    return holder.exports;
  })();
  created.catch(() => {
    if (instance === created) instance = undefined; // let a later call try again
    compiled = undefined;
  });
  instance = created;
  return created;
}

/** A fatal libjpeg-turbo error (a longjmp out of the WASM), or any other throw, as `CORRUPT`. */
function fatalError(error: unknown): JpegError {
  return new JpegError(
    "CORRUPT",
    error instanceof LongjmpSignal
      ? "corrupt or unsupported JPEG: libjpeg-turbo stopped with a fatal error"
      : `JPEG decoder failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/**
 * Decodes a JPEG with libjpeg-turbo, scaled in the DCT domain to `width` x `height` (which must
 * be `ceil(sourceSize * k / 8)` for the wanted factor k/8: TurboJPEG picks the largest factor
 * whose output fits in them).
 *
 * @param jpeg the whole JPEG file
 * @param width output width in pixels
 * @param height output height in pixels
 * @param pixelFormat {@linkcode TJPF_RGB}, {@linkcode TJPF_RGBA} or {@linkcode TJPF_CMYK}
 * @returns `width * height * pixelSize` bytes, row-major, no padding
 * @throws {JpegError} `CORRUPT` when libjpeg-turbo reports an error or a warning (corrupt or
 *   truncated entropy-coded data, an impossible colour conversion, out of memory)
 */
export async function turboDecode(
  jpeg: Uint8Array,
  width: number,
  height: number,
  pixelFormat: number,
): Promise<Uint8Array> {
  const pixelSize = PIXEL_SIZE[pixelFormat];
  if (!pixelSize) throw new RangeError(`unsupported pixel format ${pixelFormat}`);
  const tj = await getTurbo();
  const outSize = width * height * pixelSize;
  let input = 0;
  let output = 0;
  let handle = 0;
  try {
    input = tj.malloc(jpeg.length);
    output = tj.malloc(outSize);
    if (input === 0 || output === 0) {
      throw new JpegError("UNSUPPORTED", `JPEG too large: cannot allocate ${outSize} bytes`);
    }
    new Uint8Array(tj.memory.buffer, input, jpeg.length).set(jpeg);
    handle = tj.tjInitDecompress();
    if (handle === 0) throw new Error("tjInitDecompress failed");
    const status = tj.tjDecompress2(
      handle,
      input,
      jpeg.length,
      output,
      width,
      width * pixelSize,
      height,
      pixelFormat,
      0,
    );
    if (status !== 0) {
      throw new JpegError(
        "CORRUPT",
        "corrupt JPEG: libjpeg-turbo reported an error or warning in the image data",
      );
    }
    return new Uint8Array(tj.memory.buffer, output, outSize).slice();
  } catch (error) {
    if (error instanceof JpegError) throw error;
    instance = undefined; // the WASM stack was unwound: start from a fresh instance next time
    handle = input = output = 0;
    throw fatalError(error);
  } finally {
    if (handle !== 0) tj.tjDestroy(handle);
    if (output !== 0) tj.free(output);
    if (input !== 0) tj.free(input);
    if (tj.memory.buffer.byteLength > MAX_RETAINED_MEMORY && instance !== undefined) {
      instance = undefined; // let the garbage collector take the grown memory
    }
  }
}
