/**
 * The page at `GET /` in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core (in a child process, see `_browser.ts`) uploads a photo and reads the top-5
 * bars, then drops a non-image on the drop zone. Set `MOBILENET_EDGE_SCREENSHOT=<file.png>` to
 * keep a screenshot of the result. Skipped, with a message, where /usr/bin/chromium is missing.
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_assert.ts";
import { loadMobileNet } from "../../mod.ts";
import { readConfig } from "../../edge/config.ts";
import { createHandler } from "../../edge/handler.ts";
import { ModelHolder, warmUp } from "../../edge/model.ts";
import { ELEPHANT, ELEPHANT_LABEL } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

const missing = !exists(CHROMIUM);
if (missing) {
  console.log(
    `skipping the page test: no ${CHROMIUM}; install chromium: apt-get install -y chromium`,
  );
}

interface Bar {
  label: string;
  pct: string;
  width: number;
}

async function drive(url: string): Promise<Record<string, Record<string, unknown>>> {
  const screenshot = Deno.env.get("MOBILENET_EDGE_SCREENSHOT");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // playwright-core is a test tool: it is in the dev lock only (scripts/locks.ts)
      `--lock=${new URL("../../deno.dev.lock", import.meta.url).pathname}`,
      new URL("./_browser.ts", import.meta.url).pathname,
      url,
      ELEPHANT.pathname,
      ...(screenshot ? [screenshot] : []),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assertStrictEquals(output.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test({
  name: "page: upload a photo in headless Chromium and read the top-5 bars",
  ignore: missing,
  fn: async () => {
    const models = new ModelHolder(
      "0.75_224",
      async () => warmUp(await loadMobileNet({ threads: 1 })),
    );
    const handler = createHandler({ config: readConfig(() => undefined), models });
    const listening = Promise.withResolvers<Deno.NetAddr>();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: (addr) => listening.resolve(addr) },
      handler,
    );
    try {
      const { port } = await listening.promise;
      const { before, uploaded, dropped } = await drive(`http://127.0.0.1:${port}/`);
      assertEquals(before, {
        title: "mobilenet-edge: classify an image",
        capture: "environment",
        resultVisible: false,
      });

      const bars = uploaded.bars as Bar[];
      const expected = await (await models.get()).classify(await Deno.readFile(ELEPHANT));
      assertStrictEquals(bars[0].label, ELEPHANT_LABEL);
      assertEquals(bars.map((b) => b.label), expected.map((p) => p.label));
      for (const [i, bar] of bars.entries()) {
        const p = expected[i].probability;
        assertStrictEquals(bar.pct, (p * 100).toFixed(p >= 0.1 ? 1 : 2) + "%");
        assert(Math.abs(bar.width - p) < 0.02, `bar ${i} is ${bar.width} wide for ${p}`);
      }
      assertMatch(
        String(uploaded.timings),
        /decode [\d.]+ ms · infer [\d.]+ ms · server total [\d.]+ ms/,
      );
      assertStrictEquals(uploaded.error, "");
      assertStrictEquals(uploaded.previewWidth, 500);

      // A dropped file that is not an image: the server's message, and no stale result.
      assertMatch(String(dropped.error), /not a JPEG, PNG, GIF or TIFF/);
      assertStrictEquals(dropped.resultVisible, false);
    } finally {
      await server.shutdown();
      await models.dispose();
    }
  },
});
