/**
 * `adviseHugePages`: without `--allow-ffi` (or with `MOBILENET_EDGE_HUGE_PAGES=0`) it does nothing
 * and says so; with it (on Linux) the advised WASM memory gets 2 MiB pages, the backend reports
 * it, and the model's answers are bit for bit those of a process without it.
 */
import { assert, assertEquals } from "./_assert.ts";
import { adviseHugePages } from "../src/huge_pages.ts";

const CHILD = new URL("./_huge_pages_child.ts", import.meta.url).pathname;

async function child(ffi: boolean, env: Record<string, string> = {}) {
  // with FFI, all permissions: reading /proc/self/smaps needs them
  const flags = ffi ? ["--allow-all"] : ["--allow-read", "--allow-env"];
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, CHILD],
    env,
  }).output();
  const text = new TextDecoder();
  assertEquals(code, 0, text.decode(stderr));
  return JSON.parse(text.decode(stdout).trim().split("\n").at(-1)!);
}

/** The system's THP mode (`always`, `madvise` or `never`), or undefined when unreadable. */
function thpMode(): string | undefined {
  try {
    const text = Deno.readTextFileSync("/sys/kernel/mm/transparent_hugepage/enabled");
    return text.match(/\[(\w+)\]/)?.[1];
  } catch {
    return undefined;
  }
}

Deno.test("huge pages: without --allow-ffi, nothing is advised and the reason says why", () => {
  if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") return;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const said = adviseHugePages(memory);
  assertEquals(said, Deno.build.os === "linux" ? "off: no --allow-ffi" : "off: not Linux");
});

Deno.test("huge pages: with --allow-ffi, 2 MiB pages, and the same answers", async () => {
  if (Deno.build.os !== "linux") {
    console.log("skipped: transparent huge pages are a Linux feature");
    return;
  }
  const [on, off] = [await child(true), await child(false)];
  assertEquals(on.said, "on (madvise)");
  assertEquals(on.backend, "on (madvise)");
  assertEquals([off.said, off.backend], ["off: no --allow-ffi", "off: no --allow-ffi"]);
  const mode = thpMode();
  if (mode === "never" || mode === undefined) {
    console.log(`skipped the page check: transparent huge pages are ${mode ?? "unknown"} here`);
  } else {
    assert(on.anonHugeKb >= 2048, `advised memory has ${on.anonHugeKb} kB of huge pages`);
  }
  assertEquals(on.probabilities, off.probabilities);
});

Deno.test("huge pages: MOBILENET_EDGE_HUGE_PAGES=0 keeps 4 KiB pages even with --allow-ffi", async () => {
  if (Deno.build.os !== "linux") return;
  const out = await child(true, { MOBILENET_EDGE_HUGE_PAGES: "0" });
  assertEquals([out.said, out.backend], Array(2).fill("off: MOBILENET_EDGE_HUGE_PAGES=0"));
  if (thpMode() === "madvise") assertEquals(out.anonHugeKb, 0);
});
