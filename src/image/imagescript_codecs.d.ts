// Types for the imagescript WASM codec modules used by imagescript_codecs.ts (they ship none).

/** A decoded framebuffer. */
export interface FrameBuffer {
  width: number;
  height: number;
  format: 0 | 1 | 2;
  buffer: Uint8Array;
}

/** A decoded GIF frame. */
export interface GifFrame {
  x: number;
  y: number;
  width: number;
  height: number;
  buffer: Uint8Array;
}

/** The union of the codec modules' shapes (each module uses its part). */
declare const codec: {
  init(): Promise<{
    decode(bytes: Uint8Array, width?: number, height?: number): FrameBuffer & {
      framebuffer: Uint8Array;
    };
    Decoder: new (bytes: Uint8Array) => {
      width: number;
      height: number;
      frame(): GifFrame | null;
      free(): void;
    };
  }>;
};
export default codec;
