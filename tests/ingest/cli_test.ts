/** The ingest command's argument handling (in-process: bad arguments never load a model). */
import { assertEquals, assertThrows } from "../_assert.ts";
import { main, parseDuration } from "../../src/cli/ingest.ts";
import { cameraSpecs, parseCameraSpec } from "../../src/cli/ingest_cameras.ts";
import { loadMobileNet, teach } from "../../mod.ts";
import { frames } from "../head/_frames.ts";

/** What `main` prints on stderr for each of `runs` (their exit codes checked against 2). */
async function refusals(runs: string[][]): Promise<string[]> {
  const error = console.error;
  const printed: string[] = [];
  console.error = (text: string) => printed.push(text);
  try {
    for (const args of runs) assertEquals(await main(args), 2, args.join(" "));
  } finally {
    console.error = error;
  }
  return printed;
}

Deno.test("durations: 500ms, 2s, 1.5m, 1h, plain seconds", () => {
  assertEquals(parseDuration("500ms", "--every"), 500);
  assertEquals(parseDuration("2s", "--every"), 2000);
  assertEquals(parseDuration("1.5m", "--every"), 90_000);
  assertEquals(parseDuration("1h", "--every"), 3_600_000);
  assertEquals(parseDuration("3", "--every"), 3000);
  assertThrows(() => parseDuration("soon", "--every"), RangeError, "--every");
  assertThrows(() => parseDuration("-1s", "--every"), RangeError);
});

Deno.test("the CLI refuses bad arguments with exit code 2", async () => {
  const printed = await refusals([
    [],
    ["-", "--top", "0"],
    ["-", "--every", "soon"],
    ["-", "--min-change", "2"],
    ["ftp://cam/x"],
    ["mqtt://broker:1883/"],
    ["mqtt://broker:1883/a", "--group", "a/b"],
    ["http://cam/x", "--user", "nocolon"],
    ["-", "--bogus"],
  ]);
  assertEquals(printed.length, 9);
  assertEquals(printed.every((p) => p.includes("usage: deno task ingest")), true);
});

Deno.test("the CLI checks --threads, --resize and --precision before loading, --top against the model", async () => {
  const printed = await refusals([
    ["-", "--threads", "abc"],
    ["-", "--threads", "9"],
    ["-", "--resize", "squash"],
    ["-", "--precision", "int4"],
  ]);
  assertEquals(printed.length, 4);
  assertEquals(printed.every((p) => p.includes("usage: deno task ingest")), true);
  // the bound of --top is the model's class count: refused once the model is loaded
  assertEquals(await refusals([["-", "--top", "1001", "--model", "0.25_224"]]), [
    "ingest: --top must be an integer from 1 to 1000, got 1001",
  ]);
});

Deno.test("a source's own settings follow it after #: they win over the flags; a # wildcard stays", () => {
  assertEquals(parseCameraSpec("mqtt://b:1883/frigate/#"), { source: "mqtt://b:1883/frigate/#" });
  assertEquals(parseCameraSpec("mqtt://b:1883/frigate/##name=porch"), {
    source: "mqtt://b:1883/frigate/#",
    name: "porch",
  });
  assertEquals(
    parseCameraSpec("http://cam/snap.jpg#name=garage#head=g.json#zone=0.5,0.4,0.3,0.5#confirm=3"),
    {
      source: "http://cam/snap.jpg",
      name: "garage",
      head: "g.json",
      zone: { x: 0.5, y: 0.4, width: 0.3, height: 0.5 },
      confirm: 3,
    },
  );
  const [a, b] = cameraSpecs(["-#confirm=2", "/srv/cam#collect=frames"], {
    head: "h.json",
    confirm: 5,
  });
  assertEquals([a.source, a.head, a.confirm, a.collect], ["-", "h.json", 2, undefined]);
  assertEquals([b.source, b.head, b.confirm, b.collect], ["/srv/cam", "h.json", 5, "frames"]);
  assertThrows(() => parseCameraSpec("-#nmae=x"), RangeError, "unknown camera setting #nmae=");
  assertThrows(() => parseCameraSpec("-#zone=1,2"), RangeError, "#zone= must be x,y,w,h");
  assertThrows(() => parseCameraSpec("-#confirm=0"), RangeError, "#confirm= must be");
  assertThrows(() => cameraSpecs(["-", "/srv/cam"], { name: "x" }), RangeError, "#name=NAME");
});

Deno.test("bad camera flags are refused with exit code 2 before a model loads", async () => {
  const printed = await refusals([
    ["-", "--confirm", "0"],
    ["-", "--zone", "0.5,0.5,0.6,0.1"],
    ["-", "/srv/cam", "--name", "porch"],
    ["-#bogus=1"],
    ["-", "--collect", "d", "--collect-distance", "3"],
    ["-", "--collect", "d", "--collect-max", "0"],
  ]);
  assertEquals(printed.length, 6);
  assertEquals(printed.every((p) => p.includes("usage: deno task ingest")), true);
});

Deno.test("a head taught on another model is refused at start: exit 2 and one clear line", async () => {
  const small = await loadMobileNet({ model: "0.25_224" });
  const dir = await Deno.makeTempDir({ prefix: "ingest_head_" });
  let printed: string[];
  try {
    const head = await teach(small, { a: frames("empty", 2, 1), b: frames("package", 2, 2) });
    await head.save(`${dir}/garage.json`);
    printed = await refusals([
      ["-", "--head", `${dir}/garage.json`, "--model", "0.75_224"],
      [`-#head=${dir}/missing.json`],
    ]);
  } finally {
    await small.dispose();
    await Deno.remove(dir, { recursive: true });
  }
  assertEquals(printed.length, 2);
  assertEquals(printed.every((p) => !p.includes("\n")), true, printed.join("\n---\n"));
  assertEquals(
    printed[0].startsWith(
      `ingest: camera stdin: head ${dir}/garage.json: this head was taught on MobileNet v1 0.25/224`,
    ),
    true,
    printed[0],
  );
  assertEquals(
    printed[1],
    `ingest: head ${dir}/missing.json: head file ${dir}/missing.json does not exist`,
  );
});
