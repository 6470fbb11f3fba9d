/**
 * Starting the endpoint (issue 21, item 8; issue 20, item 7): a typo or a bad value stops the
 * start with one line and exit code 1 (the real `deno task serve` in child processes); a head
 * directory that is missing, empty, holds a corrupt head, or a head taught on other weights stops
 * it too; only a weights URL that does not answer leaves the server up (503 with the reason).
 */
import {
  assert,
  assertEquals,
  assertMatch,
  assertRejects,
  assertStrictEquals,
} from "../_assert.ts";
import { Head, HeadError, loadMobileNet, teach, WeightsError } from "../../mod.ts";
import { CONFIG_ENV } from "../../edge/config.ts";
import { isConfigError, startEdge, startErrorLine } from "../../edge/start.ts";
import { frames } from "../head/_frames.ts";
import { captureLog } from "./_loopback.ts";
import { runServeToExit } from "./_serve.ts";

// A head taught on the 0.25 weights: the served 0.75 model must refuse it.
const small = await loadMobileNet({ model: "0.25_224", threads: 1 });
const other = await teach(small, {
  empty: frames("empty", 2, 1),
  package: frames("package", 2, 2),
});
await small.dispose();

/** A head directory holding `files` (name to contents); removed by the caller. */
async function headDir(files: Record<string, string | Head>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-edge-start-" });
  for (const [name, contents] of Object.entries(files)) {
    if (typeof contents === "string") await Deno.writeTextFile(`${dir}/${name}`, contents);
    else await contents.save(`${dir}/${name}`);
  }
  return dir;
}

function env(values: Record<string, string>) {
  return (name: string) => values[name];
}

Deno.test("start: a head directory that is missing, empty or holds a corrupt head stops it", async () => {
  const animals = await Head.fromCategories(["dog", "cat"]);
  const corrupt = JSON.stringify({ ...animals.toJSON(), threshold: 0.1 });
  const dirs = [
    await headDir({ "notes.txt": "not a head" }),
    await headDir({ "door.json": corrupt }),
  ];
  try {
    const cases: [string, string, RegExp][] = [
      ["/nonexistent/heads", "NOT_FOUND", /head directory \/nonexistent\/heads does not exist/],
      [dirs[0], "BAD_HEAD", /holds no head file \(NAME\.json\)/],
      [dirs[1], "CORRUPT", /^door\.json: the head's contents do not match its sha256/],
    ];
    for (const [dir, code, message] of cases) {
      const error = await assertRejects(
        () => startEdge({ env: env({ [CONFIG_ENV.heads]: dir }) }),
        HeadError,
      );
      assertStrictEquals(error.code, code);
      assertMatch(error.message, message);
      assertMatch(startErrorLine(error), /^edge: cannot start: [^\n]+$/);
    }
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start: a head taught on other weights stops it once the model is in", async () => {
  const dir = await headDir({ "door.json": other });
  const fatal: unknown[] = [];
  try {
    await captureLog(async () => {
      const edge = await startEdge({
        env: env({ [CONFIG_ENV.heads]: dir, [CONFIG_ENV.decode]: "inline" }),
        threads: 1,
        onFatal: (error) => fatal.push(error),
      });
      await assertRejects(() => edge.models.get());
      assertStrictEquals(edge.models.status, "failed");
    });
    assertStrictEquals(fatal.length, 1);
    const error = fatal[0] as HeadError;
    assertStrictEquals(error.code, "MODEL_MISMATCH");
    assertMatch(error.message, /^head door\.json: this head was taught on MobileNet v1 0\.25\/224/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start: only a weights URL that does not answer keeps the server up (503)", () => {
  assert(!isConfigError(new WeightsError("NETWORK", "connection refused")));
  assert(!isConfigError(new WeightsError("TIMEOUT", "no answer in 30 s")));
  for (
    const error of [
      new WeightsError("NOT_FOUND", "cannot read weights/x/manifest.json"),
      new WeightsError("HASH_MISMATCH", "shard 1"),
      new RangeError("MOBILENET_EDGE_THREADS must be an integer"),
      new HeadError("MODEL_MISMATCH", "taught on other weights"),
    ]
  ) assert(isConfigError(error), error.message);
});

Deno.test("start: deno task serve stops with one line and exit code 1 on a typo or a bad value", async () => {
  const dir = await headDir({ "door.json": other });
  try {
    const cases: [Record<string, string>, RegExp][] = [
      [
        { MOBILENET_EDGE_MAX_INFLIGHT: "abc" },
        /^edge: cannot start: MOBILENET_EDGE_MAX_INFLIGHT must be an integer >= 1, got "abc"$/,
      ],
      [
        { MOBILENET_EDGE_MAX_INFLIGT: "4" },
        /^edge: cannot start: MOBILENET_EDGE_MAX_INFLIGT is not a setting of the edge \(a typo\?\)/,
      ],
      [
        {
          MOBILENET_EDGE_HEADS: dir,
          MOBILENET_EDGE_MODEL: "0.75_224",
          MOBILENET_EDGE_THREADS: "1",
        },
        /^edge: cannot start: head door\.json: this head was taught on MobileNet v1 0\.25\/224/,
      ],
    ];
    const exits = await Promise.all(cases.map(([values]) => runServeToExit(values)));
    for (const [i, exit] of exits.entries()) {
      // ours: one line (a head is checked once the model is in: deno serve has said it listens)
      const lines = exit.stderr.trim().split("\n").filter((l) => !l.startsWith("deno serve: "));
      assertEquals([exit.code, lines.length], [1, 1], JSON.stringify(exit));
      assertMatch(lines[0], cases[i][1]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
