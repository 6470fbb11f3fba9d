/** The classify command, run as users run it: a subprocess with the task's permissions. */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { main } from "../../src/cli/classify.ts";
import { runDeno, taskFrom } from "./_task.ts";

const SCRIPT = new URL("../../src/cli/classify.ts", import.meta.url).pathname;
const IMAGES = new URL("../fixtures/images/", import.meta.url).pathname;

async function classify(...args: string[]) {
  return await classifyWith({}, ...args);
}

function classifyWith(env: Record<string, string>, ...args: string[]) {
  return runDeno(["run", "--allow-read", "--allow-env", "--allow-net", SCRIPT, ...args], { env });
}

Deno.test("the bare command classifies the bundled elephant and exits by itself", async () => {
  const { code, stdout } = await classify();
  assertEquals(code, 0);
  assertMatch(stdout, /^Predicted: \[\('n02504458', 'African_elephant', 0\.\d+\)/m);
  assertMatch(stdout, /386\s+African elephant\s+0\.\d{4}/);
  assertEquals(stdout.split("\n").filter((l) => /^\s+\d+\s/.test(l)).length, 5);
});

Deno.test("--json prints one object per image per line; bad files are reported and skipped", async () => {
  const { code, stdout } = await classify(
    "--json",
    "--top",
    "3",
    `${IMAGES}dog.jpg`,
    "/no/such/file.jpg",
    `${IMAGES}n02391049_zebra.JPEG`,
  );
  assertEquals(code, 1);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.length, 3);
  assertEquals(lines[0].file, `${IMAGES}dog.jpg`);
  assertEquals(lines[0].predictions.length, 3);
  assertEquals(Object.keys(lines[0].predictions[0]), ["index", "label", "probability"]);
  assertEquals(lines[0].predictions[0].index, 258);
  assertEquals(lines[0].predictions[0].label, "Samoyed");
  assert(lines[0].timings.totalMs > 0);
  assertEquals(lines[1].file, "/no/such/file.jpg");
  assertEquals(lines[1].error.name, "NotFound");
  assertEquals(lines[2].predictions[0].label, "zebra");
});

Deno.test("--model picks the bundled 0.25 model; an unknown model exits 2 with the choices", async () => {
  const small = await classify("--json", "--top", "1", "--model", "0.25_224", `${IMAGES}dog.jpg`);
  assertEquals(small.code, 0);
  const line = JSON.parse(small.stdout);
  assertEquals(line.predictions.length, 1);
  const bad = await classify("--model", "0.6_224");
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /unknown model "0\.6_224".*0\.75_224, 0\.25_224/);
  const flag = await classify("--frobnicate");
  assertEquals(flag.code, 2);
  assertMatch(flag.stderr, /unknown flag --frobnicate/);
});

Deno.test("--verbose reports the backend; MOBILENET_EDGE_THREADS=1 forces the single-thread binary", async () => {
  const forced = await classifyWith({ MOBILENET_EDGE_THREADS: "1" }, "--verbose");
  assertEquals(forced.code, 0);
  assertMatch(forced.stderr, /backend: .*"binary":"tfjs-backend-wasm-simd\.wasm".*"threads":1/);
  assertMatch(forced.stderr, /MOBILENET_EDGE_THREADS/);
  const two = await classify("--verbose", "--threads", "2");
  assertEquals(two.code, 0);
  assertMatch(two.stderr, /"binary":"tfjs-backend-wasm-threaded-simd\.wasm".*"threads":2/);
  assertMatch(two.stdout, /386\s+African elephant/);
  const bad = await classify("--threads", "0");
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /--threads must be a positive integer or "auto"/);
});

Deno.test("--precision int8 runs the int8 kernels and gives the same answer; a bad value exits 2", async () => {
  const int8 = await classify("--verbose", "--json", "--precision", "int8", `${IMAGES}dog.jpg`);
  assertEquals(int8.code, 0);
  assertMatch(int8.stderr, /params, int8\)/);
  assertMatch(int8.stderr, /"int8":\{"kernels":"relaxed-dot"/);
  assertEquals(JSON.parse(int8.stdout).predictions[0].label, "Samoyed");
  const bad = await classify("--precision", "int4");
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /--precision must be float32 or int8, got int4/);
});

Deno.test("--top out of range exits 2 once, before any image, with the range", async () => {
  const lines: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => lines.push(`out: ${a.join(" ")}`);
  console.error = (...a: unknown[]) => lines.push(`err: ${a.join(" ")}`);
  let code;
  try {
    code = await main([
      "--top",
      "1001",
      "--model",
      "0.25_224",
      `${IMAGES}dog.jpg`,
      `${IMAGES}dog.jpg`,
    ]);
  } finally {
    console.log = log;
    console.error = error;
  }
  assertEquals(code, 2);
  assertEquals(lines, ["err: classify: --top must be an integer from 1 to 1000, got 1001"]);
});

Deno.test("classify DIR classifies the folder's images in name order and says what it skipped", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-classify-dir-" });
  try {
    await Deno.copyFile(`${IMAGES}dog.jpg`, `${dir}/2_dog.jpg`);
    await Deno.copyFile(`${IMAGES}n02391049_zebra.JPEG`, `${dir}/1_zebra.JPEG`);
    await Deno.writeTextFile(`${dir}/notes.txt`, "not an image");
    await Deno.mkdir(`${dir}/more`);
    const { code, stdout, stderr } = await classify("--json", "--top", "1", dir);
    assertEquals(code, 0, stderr);
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines.map((l) => [l.file, l.predictions[0].label]), [
      [`${dir}/1_zebra.JPEG`, "zebra"],
      [`${dir}/2_dog.jpg`, "Samoyed"],
    ]);
    assertMatch(stderr, /warning: skipped .*notes\.txt: not a JPEG, PNG, GIF or TIFF/);
    assertMatch(stderr, /warning: skipped .*more: not a file/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("relative paths are the user's: from DIR, `deno task classify FILE FOLDER` reads DIR/FILE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-classify-cwd-" });
  try {
    await Deno.copyFile(`${IMAGES}dog.jpg`, `${dir}/dog.jpg`);
    await Deno.mkdir(`${dir}/sub`);
    await Deno.copyFile(`${IMAGES}n02391049_zebra.JPEG`, `${dir}/sub/zebra.JPEG`);
    const { code, stdout, stderr } = await taskFrom(
      dir,
      "classify",
      "--json",
      "--top",
      "1",
      "dog.jpg",
      "sub",
    );
    assertEquals(code, 0, stderr);
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
    assertEquals(lines.map((l) => [l.file, l.predictions[0].label]), [
      ["dog.jpg", "Samoyed"],
      ["sub/zebra.JPEG", "zebra"],
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("corrupt weights exit 2 with the reason, no line for the image", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-corrupt-" });
  try {
    const source = new URL("../../weights/mobilenet_v1_0.25_224/", import.meta.url);
    for (const file of ["manifest.json", "shard-000.bin", "shard-001.bin"]) {
      await Deno.copyFile(new URL(file, source), `${dir}/${file}`);
    }
    const last = await Deno.readFile(`${dir}/shard-001.bin`);
    last[1000] ^= 0xff;
    await Deno.writeFile(`${dir}/shard-001.bin`, last);
    const { code, stdout, stderr } = await classify("--json", "--model", dir, `${IMAGES}dog.jpg`);
    assertEquals([code, stdout], [2, ""]);
    assertMatch(
      stderr,
      /^classify: shard shard-001\.bin has sha256 [0-9a-f]{64}, the manifest says/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
