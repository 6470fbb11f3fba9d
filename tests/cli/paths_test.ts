/**
 * The paths on the command lines: relative ones are the user's (`INIT_CWD`, which `deno task`
 * sets to the directory it was run from), and a folder given to classify stands for its images.
 */
import { assertEquals } from "../_assert.ts";
import { expandImageArguments, userModel, userPath } from "../../src/cli/paths.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];
const FROM = envOf({ INIT_CWD: "/home/pi/photos" });

Deno.test("userPath: a relative path is resolved against INIT_CWD", () => {
  assertEquals(userPath("cat.jpg", FROM), "/home/pi/photos/cat.jpg");
  assertEquals(userPath("../cat.jpg", FROM), "/home/pi/cat.jpg");
  assertEquals(userPath("cams/door/", FROM), "/home/pi/photos/cams/door");
});

Deno.test("userPath: URLs, stdin, absolute paths and runs without INIT_CWD are left alone", () => {
  for (
    const path of [
      "http://192.0.2.10/snapshot.jpg",
      "HTTPS://cam.local/x.jpg",
      "mqtt://broker:1883/frigate/+/snapshot",
      "file:///tmp/x.jpg",
      "-",
      "/var/lib/cam/latest.jpg",
    ]
  ) assertEquals(userPath(path, FROM), path);
  assertEquals(userPath("cat.jpg", envOf({})), "cat.jpg");
  // run from the working directory itself (deno task from the project root): unchanged too
  assertEquals(userPath("cat.jpg", envOf({ INIT_CWD: Deno.cwd() })), "cat.jpg");
});

Deno.test("userModel: bundled names stay names; paths and manifests are the user's", () => {
  assertEquals(userModel("0.25_224", FROM), "0.25_224");
  assertEquals(userModel("mobilenet_v1_0.75_224", FROM), "mobilenet_v1_0.75_224");
  assertEquals(userModel("./mine", FROM), "/home/pi/photos/mine");
  assertEquals(userModel("mine/manifest.json", FROM), "/home/pi/photos/mine/manifest.json");
  assertEquals(userModel("https://example.com/w/", FROM), "https://example.com/w/");
  assertEquals(userModel(undefined, FROM), undefined);
});

Deno.test("expandImageArguments: a folder's images in name order; the rest skipped with a warning", async () => {
  const dir = await Deno.makeTempDir({ prefix: "mobilenet-paths-" });
  try {
    for (const name of ["b.jpg", "A.PNG", "c.TIFF", "d.gif", "notes.txt", ".hidden.jpg"]) {
      await Deno.writeFile(`${dir}/${name}`, new Uint8Array([1]));
    }
    await Deno.mkdir(`${dir}/sub`);
    await Deno.symlink(`${dir}/b.jpg`, `${dir}/e.jpeg`);
    const warnings: string[] = [];
    const env = envOf({ INIT_CWD: dir });
    const files = await expandImageArguments(["./", "b.jpg", "missing.jpg"], (m) => {
      warnings.push(m);
    }, env);
    assertEquals(files.map((f) => f.name), [
      "./A.PNG",
      "./b.jpg",
      "./c.TIFF",
      "./d.gif",
      "./e.jpeg",
      "b.jpg",
      "missing.jpg",
    ]);
    assertEquals(files[0].path, `${dir}/A.PNG`);
    // a missing file is passed on: reading it reports the error like any unreadable image
    assertEquals(files.at(-1)!.path, `${dir}/missing.jpg`);
    assertEquals(warnings, [
      "skipped ./notes.txt: not a JPEG, PNG, GIF or TIFF",
      "skipped ./sub: not a file",
    ]);
    const sample = new URL("../../samples/african_elephant.jpg", import.meta.url);
    assertEquals(await expandImageArguments([sample], () => {}, env), [
      { name: "samples/african_elephant.jpg", path: sample },
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
