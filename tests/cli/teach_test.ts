/**
 * The commands of issue 20 exactly as written, run as users run them (`deno task ...` in
 * subprocesses): teach a folder, classify with the head, a categories head, the refusals.
 * The 0.25 model keeps them quick.
 */
import { assert, assertEquals, assertMatch } from "../_assert.ts";
import { DOORSTEP } from "../../bench/teach_scene.ts";
import { frames, writeExamples } from "../head/_frames.ts";
import { runDeno, taskFrom } from "./_task.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const ELEPHANT = `${ROOT}samples/african_elephant.jpg`;

function task(...args: string[]) {
  return runDeno(["task", "-q", ...args], { cwd: ROOT });
}

const dir = await Deno.makeTempDir();
await writeExamples(`${dir}/frames`, {
  empty: frames("empty", 4, 300),
  package: frames("package", 4, 400),
});
const zone = [DOORSTEP.x, DOORSTEP.y, DOORSTEP.width, DOORSTEP.height].join(",");

/** `deno task teach DIR --out HEAD --zone x,y,w,h` on the frames, with the 0.25 model. */
function teachFrames(out: string, ...more: string[]) {
  return task(
    "teach",
    `${dir}/frames`,
    "--out",
    out,
    "--zone",
    zone,
    "--model",
    "0.25_224",
    ...more,
  );
}

Deno.test("deno task teach DIR --out HEAD --zone x,y,w,h: the report, a progress bar, the same head with 1 or 2 threads", async () => {
  const one = await teachFrames(`${dir}/one.json`, "--threads", "1");
  assertEquals(one.code, 0, one.stderr);
  assertMatch(one.stdout, /^taught 2 classes from 8 examples/m);
  assertMatch(one.stdout, /cross-validated accuracy: \d+\.\d% \(4 folds; features: /);
  assertMatch(
    one.stdout,
    /confusion matrix \(rows: true class, columns: predicted\):\n\s+empty\s+package\nempty\s+\d+\s+\d+\npackage\s+\d+\s+\d+/,
  );
  assertMatch(one.stdout, /unknown threshold: 0\.\d{3} \(\d+\.\d% of held-out examples pass\)/);
  assertMatch(one.stdout, /wrote .*one\.json \(empty, package\)/);
  assertMatch(one.stderr, /embedding examples \[#{30}\] 8\/8/);
  assertMatch(one.stderr, /warning: class "empty" has 4 examples: teach 5 or more/);
  const two = await teachFrames(`${dir}/two.json`, "--threads", "2");
  assertEquals(two.code, 0, two.stderr);
  assertEquals(
    await Deno.readTextFile(`${dir}/two.json`),
    await Deno.readTextFile(`${dir}/one.json`),
  );
  const head = JSON.parse(await Deno.readTextFile(`${dir}/one.json`));
  assertEquals(head.preprocessing.zone, DOORSTEP);
});

Deno.test("deno task classify --head HEAD --json FILES: the label is a class folder's name; unknown is said", async () => {
  await writeExamples(`${dir}/new`, {
    x: [...frames("package", 1, 901), ...frames("empty", 1, 902)],
  });
  if (!(await Deno.stat(`${dir}/one.json`).catch(() => undefined))) {
    await teachFrames(`${dir}/one.json`);
  }
  const { code, stdout, stderr } = await task(
    "classify",
    "--head",
    `${dir}/one.json`,
    "--json",
    `${dir}/new/x/000.png`,
    `${dir}/new/x/001.png`,
  );
  assertEquals(code, 0, stderr);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assertEquals(lines.length, 2);
  for (const line of lines) {
    assertEquals(line.predictions.map((p: { label: string }) => p.label).sort(), [
      "empty",
      "package",
    ]);
    assertEquals(typeof line.unknown, "boolean");
    assertEquals(line.imagenet.length, 5);
  }
  assertEquals(lines[0].predictions[0].label, "package");
  assertEquals(lines[1].predictions[0].label, "empty");
  // the head was taught on the 0.25 model: another model is refused
  const other = await task(
    "classify",
    "--model",
    "0.75_224",
    "--head",
    `${dir}/one.json`,
    ELEPHANT,
  );
  assertEquals(other.code, 2);
  assertMatch(
    other.stderr,
    /this head was taught on MobileNet v1 0\.25\/224 .*teach the head again/,
  );
});

Deno.test("deno task teach --categories dog,cat,bird,wheeled_vehicle --out animals.json, then classify with it", async () => {
  const made = await task(
    "teach",
    "--categories",
    "dog,cat,bird,wheeled_vehicle",
    "--out",
    `${dir}/animals.json`,
  );
  assertEquals(made.code, 0, made.stderr);
  assertMatch(made.stdout, /dog: n02084071, \d+ ImageNet classes/);
  assertMatch(made.stdout, /wheeled_vehicle: n04576211/);
  const { code, stdout } = await task(
    "classify",
    "--head",
    `${dir}/animals.json`,
    "--json",
    ELEPHANT,
  );
  assertEquals(code, 0);
  const line = JSON.parse(stdout);
  assertEquals(line.predictions.length, 4);
  assertEquals(line.unknown, true); // an elephant is none of them
  assertEquals(line.imagenet[0].label, "African elephant");
  const bad = await task("teach", "--categories", "dog,unicornfish", "--out", `${dir}/bad.json`);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /no WordNet noun "unicornfish"/);
});

Deno.test("teach refuses a missing folder, one class, a bad zone, no --out, with clear messages", async () => {
  await writeExamples(`${dir}/single`, { open: frames("empty", 2, 5) });
  const out = ["--out", `${dir}/x.json`];
  const cases: [string[], RegExp][] = [
    [[`${dir}/nowhere`, ...out], /teach: the folder .*nowhere does not exist/],
    [
      [`${dir}/single`, ...out, "--model", "0.25_224"],
      /only one class \("open"\): teaching needs two or more/,
    ],
    [
      [`${dir}/frames`, ...out, "--zone", "0.5,0.5,0.6,0.1"],
      /--zone 0\.5,0\.5,0\.6,0\.1: zone must lie inside the frame/,
    ],
    [[`${dir}/frames`], /--out HEAD is required/],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await task("teach", ...args);
    assertEquals(code, 2, args.join(" "));
    assertMatch(stderr, message);
  }
  assert(!(await Deno.stat(`${dir}/x.json`).catch(() => undefined)));
});

Deno.test("teach's paths are the user's: from DIR, --out a.json writes DIR/a.json", async () => {
  await Deno.mkdir(`${dir}/user`);
  const made = await taskFrom(`${dir}/user`, "teach", "--categories", "dog,cat", "--out", "a.json");
  assertEquals(made.code, 0, made.stderr);
  assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/user/a.json`)).labels, ["dog", "cat"]);
  // the example folder too: a missing one is named as the user's
  const missing = await taskFrom(`${dir}/user`, "teach", "nowhere", "--out", "b.json");
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, new RegExp(`the folder ${dir}/user/nowhere does not exist`));
});

Deno.test("teardown", async () => {
  await Deno.remove(dir, { recursive: true });
});
