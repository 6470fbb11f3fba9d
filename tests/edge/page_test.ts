/**
 * The page at `GET /` in a real browser: headless Chromium (Debian's `chromium`) driven by
 * playwright-core (in a child process, see `_browser.ts`). On a desktop in light mode it uploads
 * a photo and reads the top-5 bars, answers it again with a head, then gets a non-image dropped
 * and one picked; on a phone in dark mode it checks the buttons and the colours. Set
 * `MOBILENET_EDGE_SCREENSHOT=<file.png>` to keep a screenshot of the result. Skipped, with a
 * message, where /usr/bin/chromium is missing.
 */
import { assert, assertEquals, assertMatch, assertStrictEquals } from "../_assert.ts";
import { Head } from "../../mod.ts";
import { ELEPHANT, ELEPHANT_LABEL } from "./_helpers.ts";
import { startLoopback } from "./_loopback.ts";

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

interface Colours {
  page: string;
  text: string;
  muted: string;
  error: string;
  button: [string, string];
  secondary: string;
}

/** WCAG 2 contrast ratio of two opaque CSS colours `rgb(r, g, b)`. */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, b] = css.match(/\d+(\.\d+)?/g)!.slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** Every text colour of the page passes WCAG AA (4.5:1) on what it is drawn on. */
function assertReadable(colours: Colours, scheme: string): void {
  const pairs: [string, string, string][] = [
    ["text", colours.text, colours.page],
    ["muted", colours.muted, colours.page],
    ["error", colours.error, colours.page],
    ["button", colours.button[0], colours.button[1]],
    ["secondary button", colours.secondary, colours.page],
  ];
  for (const [what, fg, bg] of pairs) {
    const ratio = contrast(fg, bg);
    assert(ratio >= 4.5, `${scheme}: ${what} ${fg} on ${bg} is ${ratio.toFixed(2)}:1`);
  }
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
  name: "page: a photo, a head, non-images, contrast and buttons in headless Chromium",
  ignore: missing,
  fn: async () => {
    const animals = await Head.fromCategories(["dog", "cat", "bird"]);
    const server = await startLoopback({ heads: new Map([["animals", animals]]), slots: [2, 8] });
    try {
      const result = await drive(`${server.url}/`);
      const { before, uploaded, head, dropped, picked, phone } = result;
      assertEquals(before, {
        title: "mobilenet-edge: classify an image",
        capture: "environment",
        // a desktop has no camera to capture with
        cameraVisible: false,
        resultVisible: false,
        heads: ["ImageNet (1000 classes)", "animals (3 classes)"],
      });

      const model = await server.models.get();
      const photo = await Deno.readFile(ELEPHANT);
      const bars = uploaded.bars as Bar[];
      const expected = await model.classify(photo);
      assertStrictEquals(bars[0].label, ELEPHANT_LABEL);
      assertEquals(bars.map((b) => b.label), expected.map((p) => p.label));
      for (const [i, bar] of bars.entries()) {
        const p = expected[i].probability;
        assertStrictEquals(bar.pct, (p * 100).toFixed(p >= 0.1 ? 1 : 2) + "%");
        assert(Math.abs(bar.width - p) < 0.02, `bar ${i} is ${bar.width} wide for ${p}`);
      }
      assertStrictEquals(uploaded.title, "Top 5");
      // a number and its unit never part at a line end: a no-break space between them
      const timings = String(uploaded.timings);
      assertMatch(
        timings,
        /decode [\d.]+\u00a0ms · infer [\d.]+\u00a0ms · server total [\d.]+\u00a0ms/,
      );
      assert(!/\d ms/.test(timings), timings);
      assertStrictEquals(uploaded.error, "");
      assertStrictEquals(uploaded.previewWidth, 500);

      // The head: its classes as the bars, an honest "unknown", and ImageNet's answer beside.
      const answer = await model.withHead(animals).classifyDetailed(photo);
      assertEquals(
        (head.bars as Bar[]).map((b) => b.label),
        answer.predictions.map((p) => p.label),
      );
      assertStrictEquals(head.title, "Head animals");
      assertStrictEquals(head.labels, "Classes: dog, cat, bird");
      assertStrictEquals(answer.unknown, true);
      assertMatch(String(head.unknown), /^None of these classes fits this image well: the best, /);
      assertMatch(String(head.unknown), /is under the 40\.0% this head needs/);
      assertMatch(String(head.imagenet), /^ImageNet says: African elephant \(\d+\.\d%\)\.$/);

      // Not images: the page's words, not the API's; a text file is not even sent.
      assertStrictEquals(
        dropped.error,
        "This file is not an image this server can read. Choose a JPEG, PNG, GIF or TIFF photo.",
      );
      assertStrictEquals(dropped.resultVisible, false);
      assertEquals(picked, {
        error: "“notes.txt” is not an image. Choose a JPEG, PNG, GIF or TIFF photo.",
        sent: 0,
      });

      // WCAG AA in both schemes (the dark error red was 2.9:1).
      const light = result.colours as unknown as Colours;
      const dark = phone.colours as Colours;
      assertReadable(light, "light");
      assertReadable(dark, "dark");
      assert(dark.page !== light.page, `dark mode has its own background: ${dark.page}`);

      // A phone: "Take a photo" shows, and both buttons are the same size.
      assertStrictEquals(phone.cameraVisible, true);
      const [choose, take] = phone.buttons as [number, number][];
      assertEquals(choose, take);
    } finally {
      await server.close();
    }
  },
});
