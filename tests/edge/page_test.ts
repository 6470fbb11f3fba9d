/**
 * The page at `GET /` in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core uploads a photo and reads the top-5 bars, then drops a second image on the
 * drop zone. Set `MOBILENET_EDGE_SCREENSHOT=<file.png>` to keep a screenshot of the result.
 * Skipped, with a message, where /usr/bin/chromium is missing.
 */
import { chromium } from "npm:playwright-core@1.65.1";
import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_assert.ts";
import { loadMobileNet } from "../../mod.ts";
import { readConfig } from "../../edge/config.ts";
import { createHandler } from "../../edge/handler.ts";
import { ModelHolder, warmUp } from "../../edge/model.ts";
import { ELEPHANT, ELEPHANT_LABEL } from "./_helpers.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

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

/** Reads each bar's label, percentage and width (as a fraction of its track). */
const READ_BARS = `[...document.querySelectorAll("#predictions li")].map((li) => ({
  label: li.querySelector(".label").textContent,
  pct: li.querySelector(".pct").textContent,
  width: li.querySelector(".bar").getBoundingClientRect().width /
    li.querySelector(".track").getBoundingClientRect().width,
}))`;

/** Drops a text file named like a PNG on the drop zone. */
const DROP_TEXT_FILE = `(() => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(["not an image"], "notes.png", { type: "image/png" }));
  document.getElementById("drop").dispatchEvent(
    new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }),
  );
})()`;

interface Bar {
  label: string;
  pct: string;
  width: number;
}

Deno.test({
  name: "page: upload a photo in headless Chromium and read the top-5 bars",
  ignore: missing,
  // playwright-core keeps a few timers of its own after close(); the browser process and the
  // server are closed below.
  sanitizeOps: false,
  sanitizeResources: false,
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
    const url = `http://127.0.0.1:${(await listening.promise).port}/`;
    const profile = await Deno.makeTempDir({ prefix: "mobilenet-edge-chromium-" });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 960, height: 720 },
    });
    try {
      const page = context.pages()[0] ?? await context.newPage();
      await page.goto(url);
      assertStrictEquals(await page.title(), "mobilenet-edge: classify an image");
      // Waits use locators (the page's CSP forbids the eval behind string predicates); page-side
      // code is passed as strings (this file is type-checked without the DOM lib).
      await page.locator("#status", { hasText: "ready" }).waitFor();
      assertStrictEquals(await page.getAttribute("#camera", "capture"), "environment");
      assertStrictEquals(await page.locator("#result").isVisible(), false);

      await page.setInputFiles("#file", ELEPHANT.pathname);
      await page.locator("#predictions li").nth(4).waitFor();
      const bars = await page.evaluate(READ_BARS) as Bar[];
      const expected = await (await models.get()).classify(await Deno.readFile(ELEPHANT));
      assertStrictEquals(bars[0].label, ELEPHANT_LABEL);
      assertEquals(bars.map((b) => b.label), expected.map((p) => p.label));
      for (const [i, bar] of bars.entries()) {
        const p = expected[i].probability;
        assertStrictEquals(bar.pct, (p * 100).toFixed(p >= 0.1 ? 1 : 2) + "%");
        assert(Math.abs(bar.width - p) < 0.02, `bar ${i} is ${bar.width} wide for ${p}`);
      }
      const timings = await page.textContent("#timings");
      assertMatch(timings!, /decode [\d.]+ ms · infer [\d.]+ ms · server total [\d.]+ ms/);
      assertStrictEquals(await page.textContent("#error"), "");
      const preview = await page.evaluate(`document.getElementById("preview").naturalWidth`);
      assertStrictEquals(preview, 500);
      const shot = Deno.env.get("MOBILENET_EDGE_SCREENSHOT");
      if (shot) await page.screenshot({ path: shot, fullPage: true });

      // Dropping a file that is not an image shows the server's message in the alert region.
      await page.evaluate(DROP_TEXT_FILE);
      await page.locator("#error", { hasText: "Could not classify" }).waitFor();
      assertMatch((await page.textContent("#error"))!, /not a JPEG, PNG, GIF or TIFF/);
      assertStrictEquals(await page.locator("#result").isVisible(), false);
    } finally {
      await context.close();
      await server.shutdown();
      await models.dispose();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    }
  },
});
