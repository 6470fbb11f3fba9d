/**
 * A test-only fuzz target with planted bugs, to show that the harness catches each kind of
 * failure: an input holding HANG loops forever, STALL waits forever without using CPU, ABORT
 * aborts the process, HEAP fills V8's heap until it dies, RSS fills memory outside the heap,
 * THROW throws an untyped error, INSANE returns a picture whose data does not match its size,
 * SLOW burns 400 ms of CPU. Anything else is a typed error or a decoded picture.
 *
 * @module
 */
import process from "node:process";
import type { Format } from "../../tools/fuzz/mutator.ts";
import type { Target, Verdict } from "../../tools/fuzz/targets.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** The seeds: each planted marker padded with filler (so minimisation has work), and fine ones. */
export function seeds(_format: Format): Uint8Array[] {
  return ["ok", "typed", "HANG", "STALL", "ABORT", "HEAP", "RSS", "THROW", "INSANE", "SLOW"].map(
    (word) => enc.encode(`padding-${word}-padding`),
  );
}

function burn(ms: number): void {
  const start = process.cpuUsage();
  for (;;) {
    const used = process.cpuUsage(start);
    if ((used.user + used.system) / 1000 >= ms) return;
  }
}

async function run(bytes: Uint8Array): Promise<Verdict> {
  const text = dec.decode(bytes);
  if (text.includes("HANG")) { for (;;) burn(1000); }
  if (text.includes("STALL")) await new Promise(() => {});
  if (text.includes("ABORT")) process.abort();
  if (text.includes("HEAP")) {
    const hoard: number[][] = [];
    for (let i = 0; i < 1e6; i++) hoard.push(new Array(100_000).fill(i + 0.5));
  }
  if (text.includes("RSS")) {
    const hoard: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) hoard.push(new Uint8Array(50 << 20).fill(1)); // up to 1 GB
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
  if (text.includes("THROW")) throw new TypeError("planted bug");
  if (text.includes("INSANE")) return { outcome: "insane", detail: "0x0 with 12 bytes" };
  if (text.includes("SLOW")) burn(400);
  return bytes.length % 2 ? { outcome: "typed", code: "CORRUPT" } : { outcome: "decoded" };
}

/** The planted target, whatever the format. */
export function createTarget(_format: Format): Target {
  return {
    async run(bytes) {
      try {
        return await run(bytes);
      } catch (error) {
        return {
          outcome: "error",
          detail: `${(error as Error).name}: ${(error as Error).message}`,
        };
      }
    },
  };
}
