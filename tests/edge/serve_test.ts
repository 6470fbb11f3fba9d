/**
 * The real server in a child process, started as `deno task serve` starts it (the task's
 * permission flags, a loopback port): it works under least privilege, default threads and
 * `MOBILENET_EDGE_THREADS=1`; and under the same flags reading outside the allowed directories,
 * writing, running, ffi, other env and other network are denied.
 */
import { assert, assertEquals, assertStrictEquals } from "../_assert.ts";
import { ELEPHANT, ELEPHANT_LABEL, readJson } from "./_helpers.ts";
import { ROOT, startServe, waitReady } from "./_serve.ts";
import { encodePng } from "../_png.ts";
import { Head } from "../../mod.ts";
import { CONFIG_ENV } from "../../edge/config.ts";
import { KERNELS_ENV, SIMD_ENV, THREADS_ENV } from "../../src/backend/flags.ts";
import { SMALL_BOARD_ENV } from "../../src/presets.ts";

const photo = await Deno.readFile(ELEPHANT);

async function classify(url: string, bytes: Uint8Array, type: string, query = "") {
  return await readJson(
    await fetch(`${url}/v1/classify${query}`, {
      method: "POST",
      body: bytes as Uint8Array<ArrayBuffer>,
      headers: { "content-type": type },
    }),
  );
}

Deno.test("serve: deno task serve runs sh edge/serve.sh", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assertStrictEquals(config.tasks.serve, "sh edge/serve.sh");
});

Deno.test("serve: the server works under the task's least-privilege flags, with heads", async () => {
  const heads = await Deno.makeTempDir({ prefix: "mobilenet-edge-serve-heads-" });
  await (await Head.fromCategories(["dog", "cat", "bird"])).save(`${heads}/animals.json`);
  const server = await startServe({
    MOBILENET_EDGE_HEADS: heads,
    MOBILENET_EDGE_RESIZE: "stretch",
  });
  try {
    const health = await waitReady(server.url);
    assertStrictEquals(health.model, "0.75_224");
    // the process settings its start-up and memory figures rely on (edge/serve.sh, issue 18)
    // (Deno reads /proc/<pid>/environ only with --allow-all; cat may read it)
    const cat = await new Deno.Command("cat", { args: [`/proc/${server.pid}/environ`] }).output();
    const environ = new Set(new TextDecoder().decode(cat.stdout).split("\0"));
    for (const setting of ["GLIBC_TUNABLES=glibc.malloc.hugetlb=1", "MALLOC_ARENA_MAX=1"]) {
      assert(environ.has(setting), `the server runs without ${setting}`);
    }
    const jpeg = await classify(server.url, photo, "image/jpeg");
    assertStrictEquals(jpeg.status, 200, JSON.stringify(jpeg.body));
    assertStrictEquals((jpeg.body.predictions as { label: string }[])[0].label, ELEPHANT_LABEL);
    assertStrictEquals(jpeg.body.resize, "stretch");
    // the head directory is read under the task's flags
    const models = await readJson(await fetch(`${server.url}/v1/models`));
    assertEquals((models.body.heads as { name: string }[]).map((h) => h.name), ["animals"]);
    const head = await classify(server.url, photo, "image/jpeg", "?head=animals");
    assertEquals([head.status, head.body.head, head.body.unknown], [200, "animals", true]);
    assertStrictEquals((head.body.imagenet as { label: string }[])[0].label, ELEPHANT_LABEL);
    // PNG goes through imagescript's decoder, whose .wasm is read from its package at run time.
    const png = await classify(
      server.url,
      await encodePng(new Uint8Array(64 * 64 * 4), 64, 64),
      "image/png",
    );
    assertStrictEquals(png.status, 200, JSON.stringify(png.body));
    const empty = await classify(server.url, new Uint8Array(0), "image/jpeg");
    assertStrictEquals(empty.status, 422);
    const again = await classify(server.url, photo, "image/jpeg");
    assertStrictEquals(again.status, 200);
  } finally {
    const printed = await server.stop();
    await Deno.remove(heads, { recursive: true });
    assert(!printed.includes("NotCapable"), printed);
  }
});

Deno.test("serve: MOBILENET_EDGE_THREADS=1 runs single-thread SIMD (no workers), PRECISION=int8 int8", async () => {
  const server = await startServe({
    MOBILENET_EDGE_THREADS: "1",
    MOBILENET_EDGE_PRECISION: "int8",
  });
  try {
    const health = await waitReady(server.url);
    const backend = health.backend as Record<string, unknown>;
    assertEquals([backend.binary, backend.threads], ["tfjs-backend-wasm-simd.wasm", 1]);
    assert(String(backend.reason).includes("MOBILENET_EDGE_THREADS=1"), String(backend.reason));
    assert(["relaxed-dot", "simd-dot16"].includes(String(backend.int8)), String(backend.int8));
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    assertStrictEquals(models.models[0].precision, "int8");
    const result = await classify(server.url, photo, "image/jpeg");
    assertStrictEquals((result.body.predictions as { label: string }[])[0].label, ELEPHANT_LABEL);
  } finally {
    await server.stop();
  }
});

Deno.test("serve: the task's flags deny reads outside the allowed directories, and the rest", async () => {
  const printed = await new Deno.Command("sh", {
    args: ["edge/serve.sh", "--print-flags"],
    cwd: ROOT,
    env: { PORT: "8000", HOST: "127.0.0.1" },
    stdout: "piped",
  }).output();
  const flags = new TextDecoder().decode(printed.stdout).trim().split("\n");
  assertEquals(flags.map((f) => f.split("=")[0]), ["--allow-net", "--allow-read", "--allow-env"]);
  // every variable the endpoint and the library read is allowed (else it is silently ignored)
  const allowedEnv = new Set(flags[2].slice("--allow-env=".length).split(","));
  const read = [...Object.values(CONFIG_ENV), THREADS_ENV, SIMD_ENV, KERNELS_ENV, SMALL_BOARD_ENV];
  assertEquals(read.filter((name) => !allowedEnv.has(name)), []);
  const probe = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      ...flags,
      "tests/edge/_probe.ts",
      "weights/mobilenet_v1_0.25_224/manifest.json",
      "deno.json",
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertStrictEquals(probe.code, 0, new TextDecoder().decode(probe.stderr));
  const result = JSON.parse(new TextDecoder().decode(probe.stdout));
  assertEquals(
    {
      readInside: result.readInside,
      readOutside: result.readOutside,
      readEtcPasswd: result.readEtcPasswd,
      write: result.write,
      run: result.run,
      envHome: result.envHome,
      ffi: result.ffi,
      netOut: result.netOut,
    },
    {
      readInside: "ok",
      readOutside: "NotCapable",
      readEtcPasswd: "NotCapable",
      write: "NotCapable",
      run: "NotCapable",
      envHome: "NotCapable",
      ffi: "NotCapable",
      netOut: "NotCapable",
    },
  );
});

Deno.test("serve: weights from MOBILENET_EDGE_WEIGHTS_URL (loopback), verified and cached", async () => {
  const weights = new URL("weights/", ROOT);
  const served: string[] = [];
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const files = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr) },
    async (request) => {
      const path = new URL(request.url).pathname;
      served.push(path);
      if (!/^\/mobilenet_v1_0\.25_224\/[\w.-]+$/.test(path)) {
        return new Response(null, { status: 404 });
      }
      return new Response(await Deno.readFile(new URL(path.slice(1), weights)));
    },
  );
  const source = `http://127.0.0.1:${(await listening.promise).port}/mobilenet_v1_0.25_224/`;
  const shards = () => served.filter((path) => path.endsWith(".bin")).length;
  try {
    // Twice: the first start reads the shards from the network unless an earlier run cached
    // them (they are cached by sha256); the second start reads none of them.
    for (const run of [1, 2]) {
      served.length = 0;
      const server = await startServe({ MOBILENET_EDGE_WEIGHTS_URL: source });
      try {
        const health = await waitReady(server.url);
        assertStrictEquals(health.model, source);
        assert(served.includes("/mobilenet_v1_0.25_224/manifest.json"), served.join());
        if (run === 1) assert(shards() === 0 || shards() === 2, served.join());
        else assertStrictEquals(shards(), 0, served.join());
        const result = await classify(server.url, photo, "image/jpeg");
        assertStrictEquals(result.status, 200, JSON.stringify(result.body));
        assertStrictEquals(result.body.model, source);
      } finally {
        const printed = await server.stop();
        assert(!printed.includes("NotCapable"), printed);
      }
    }
  } finally {
    await files.shutdown();
  }
});
