/**
 * Drives the page in headless Chromium for `page_test.ts`, in its own process: playwright-core
 * reads `/proc/sys/fs/binfmt_misc/WSLInterop`, the home directory and the OS release when it
 * loads, which `deno task test`'s permissions do not grant (and should not, to the whole suite).
 *
 * `deno run -A tests/edge/_browser.ts <page url> <photo> [screenshot.png]` prints one JSON line:
 * what the page showed on a desktop in light mode (a photo uploaded, then answered by the head
 * `animals`, then a non-image dropped and one picked), and on a phone in dark mode (the buttons,
 * and the error's colours).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type Browser, chromium, type Page } from "npm:playwright-core@1.65.1";

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

/** Drops a text file named like a PNG (and typed so) on the drop zone. */
const DROP_TEXT_FILE = `(() => {
  const transfer = new DataTransfer();
  transfer.items.add(new File(["not an image"], "notes.png", { type: "image/png" }));
  document.getElementById("drop").dispatchEvent(
    new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }),
  );
})()`;

/** The computed colours that text is drawn in, and on. */
const READ_COLOURS = `(() => {
  const style = (selector) => getComputedStyle(document.querySelector(selector));
  return {
    page: style("body").backgroundColor,
    text: style("h1").color,
    muted: style("#status").color,
    error: style("#error").color,
    button: [style(".button").color, style(".button").backgroundColor],
    secondary: style(".button.secondary").color,
  };
})()`;

/** The size of each button. */
const READ_BUTTONS = `[...document.querySelectorAll(".button")].map((b) => {
  const box = b.getBoundingClientRect();
  return [box.width, box.height];
})`;

async function ready(page: Page, url: string): Promise<void> {
  await page.goto(url);
  // Waits use locators: the page's CSP forbids the eval behind string predicates.
  await page.locator("#status", { hasText: "ready" }).waitFor();
}

async function desktop(browser: Browser, url: string, photo: string, screenshot?: string) {
  const context = await browser.newContext({ viewport: { width: 960, height: 720 } });
  const page = await context.newPage();
  let posts = 0;
  page.on("request", (r) => r.method() === "POST" && posts++);
  await ready(page, url);
  await page.locator("#picker").waitFor();
  const before = {
    title: await page.title(),
    capture: await page.getAttribute("#camera", "capture"),
    cameraVisible: await page.locator("#camera-button").isVisible(),
    resultVisible: await page.locator("#result").isVisible(),
    heads: await page.locator("#head option").allTextContents(),
  };
  await page.setInputFiles("#file", photo);
  await page.locator("#predictions li").nth(4).waitFor();
  const uploaded = {
    bars: await page.evaluate(READ_BARS),
    title: await page.textContent("#result-title"),
    timings: await page.textContent("#timings"),
    error: await page.textContent("#error"),
    previewWidth: await page.evaluate(`document.getElementById("preview").naturalWidth`),
  };
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
  // Picking a head answers the same photo again, in its classes.
  await page.selectOption("#head", "animals");
  await page.locator("#imagenet").waitFor();
  const head = {
    bars: await page.evaluate(READ_BARS),
    title: await page.textContent("#result-title"),
    labels: await page.textContent("#head-labels"),
    unknown: await page.locator("#unknown").isVisible() && await page.textContent("#unknown"),
    imagenet: await page.textContent("#imagenet"),
  };
  await page.selectOption("#head", "");
  await page.evaluate(DROP_TEXT_FILE);
  await page.locator("#error", { hasText: "not an image" }).waitFor();
  const dropped = {
    error: await page.textContent("#error"),
    resultVisible: await page.locator("#result").isVisible(),
  };
  const postsBefore = posts;
  await page.setInputFiles("#file", {
    name: "notes.txt",
    mimeType: "text/plain",
    buffer: Buffer.from("a shopping list"),
  });
  await page.locator("#error", { hasText: "notes.txt" }).waitFor();
  const picked = { error: await page.textContent("#error"), sent: posts - postsBefore };
  const colours = await page.evaluate(READ_COLOURS);
  await context.close();
  return { before, uploaded, head, dropped, picked, colours };
}

async function phone(browser: Browser, url: string) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
    colorScheme: "dark",
  });
  const page = await context.newPage();
  await ready(page, url);
  const cameraVisible = await page.locator("#camera-button").isVisible();
  const buttons = await page.evaluate(READ_BUTTONS);
  await page.evaluate(DROP_TEXT_FILE);
  await page.locator("#error", { hasText: "not an image" }).waitFor();
  const colours = await page.evaluate(READ_COLOURS);
  await context.close();
  return { cameraVisible, buttons, colours };
}

async function run(url: string, photo: string, screenshot?: string) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
  });
  try {
    return { ...await desktop(browser, url, photo, screenshot), phone: await phone(browser, url) };
  } finally {
    await browser.close();
  }
}

if (import.meta.main) {
  const [url, photo, screenshot] = Deno.args;
  console.log(JSON.stringify(await run(url, photo, screenshot)));
}
