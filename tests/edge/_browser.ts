/**
 * Drives the page in headless Chromium for `page_test.ts`, in its own process: playwright-core
 * reads `/proc/sys/fs/binfmt_misc/WSLInterop`, the home directory and the OS release when it
 * loads, which `deno task test`'s permissions do not grant (and should not, to the whole suite).
 *
 * `deno run -A tests/edge/_browser.ts <page url> <photo> [screenshot.png]` prints one JSON line:
 * what the page showed after uploading the photo, then after dropping a non-image.
 *
 * @module
 */
import { chromium } from "npm:playwright-core@1.65.1";

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

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

async function run(url: string, photo: string, screenshot?: string) {
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
    // Waits use locators: the page's CSP forbids the eval behind string predicates.
    await page.locator("#status", { hasText: "ready" }).waitFor();
    const before = {
      title: await page.title(),
      capture: await page.getAttribute("#camera", "capture"),
      resultVisible: await page.locator("#result").isVisible(),
    };
    await page.setInputFiles("#file", photo);
    await page.locator("#predictions li").nth(4).waitFor();
    const uploaded = {
      bars: await page.evaluate(READ_BARS),
      timings: await page.textContent("#timings"),
      error: await page.textContent("#error"),
      previewWidth: await page.evaluate(`document.getElementById("preview").naturalWidth`),
    };
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    await page.evaluate(DROP_TEXT_FILE);
    await page.locator("#error", { hasText: "Could not classify" }).waitFor();
    const dropped = {
      error: await page.textContent("#error"),
      resultVisible: await page.locator("#result").isVisible(),
    };
    return { before, uploaded, dropped };
  } finally {
    await context.close();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const [url, photo, screenshot] = Deno.args;
  console.log(JSON.stringify(await run(url, photo, screenshot)));
}
