/**
 * The page served at `GET /`: one HTML document, no build step, no external resources. Pick,
 * drop or paste an image, or take a photo with a phone's camera; it shows the image, the top-5
 * as labelled bars and the timings. When the server has heads, a picker chooses one: the bars
 * are then its classes, with a plain notice when none fits (`unknown`) and the ImageNet answer
 * beside. It is a TypeScript string so that it travels in the module graph (no file read,
 * nothing extra to bundle on edge platforms).
 *
 * Errors are said in the page's words (a file that is not an image is caught before it is sent);
 * every text passes WCAG AA contrast (4.5:1) in light and dark mode; "Take a photo" shows only
 * where a camera capture makes sense (a touch screen, or a browser that knows `capture`).
 *
 * @module
 */

/** The page's HTML. */
export const PAGE_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mobilenet-edge: classify an image</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%231d4ed8'/%3E%3Ccircle cx='8' cy='8' r='4' fill='%23fff'/%3E%3C/svg%3E">
<style>
  :root { color-scheme: light dark; --bg: #ffffff; --fg: #111827; --muted: #4b5563; --line: #d1d5db;
    --accent: #1d4ed8; --link: #1d4ed8; --error: #b91c1c; --note: #b45309; }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #111318; --fg: #e5e7eb; --muted: #a3a9b4; --line: #3f4550; --accent: #2563eb;
      --link: #93c5fd; --error: #f87171; --note: #fbbf24; }
  }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
    background: var(--bg); color: var(--fg); }
  main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.1rem; margin: 0 0 .75rem; }
  p { margin: .25rem 0 1rem; }
  .muted { color: var(--muted); font-size: .9rem; }
  #drop { border: 2px dashed var(--line); border-radius: .75rem; padding: 1.25rem; text-align: center; }
  #drop.over { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 8%, transparent); }
  .buttons { display: flex; gap: .75rem; justify-content: center; flex-wrap: wrap; margin-top: .75rem; }
  .button { display: inline-flex; align-items: center; justify-content: center; width: 12rem; max-width: 100%;
    padding: .5rem 1rem; border: 1px solid var(--accent); border-radius: .5rem; background: var(--accent);
    color: #fff; cursor: pointer; font-weight: 600; line-height: 1.5; }
  .button.secondary { background: transparent; color: var(--link); border-color: var(--link); }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
    white-space: nowrap; }
  input[type=file]:focus-visible + .button { outline: 3px solid var(--link); outline-offset: 2px; }
  #picker { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin: 0 0 1rem; }
  #picker select { font: inherit; padding: .3rem .5rem; border-radius: .4rem; border: 1px solid var(--line);
    background: var(--bg); color: var(--fg); }
  #result { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.2fr); gap: 1.25rem;
    margin-top: 1.5rem; align-items: start; }
  @media (max-width: 36rem) { #result { grid-template-columns: 1fr; } }
  #preview { width: 100%; border-radius: .5rem; display: block; }
  #predictions { list-style: none; margin: 0; padding: 0; }
  #predictions li { margin: 0 0 .6rem; }
  #predictions.unsure .bar { background: var(--muted); }
  .row { display: flex; justify-content: space-between; gap: .5rem; }
  .label { font-weight: 600; overflow-wrap: anywhere; }
  .pct { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .track { height: .6rem; border-radius: .3rem; background: color-mix(in srgb, var(--muted) 25%, transparent); }
  .bar { height: 100%; border-radius: .3rem; background: var(--accent); min-width: 2px; }
  #unknown { border-left: 4px solid var(--note); padding: .25rem 0 .25rem .75rem; font-weight: 600; }
  #error { color: var(--error); font-weight: 600; }
  #timings { font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<main>
  <h1>What is in this picture?</h1>
  <p>MobileNet v1 on WebAssembly, served by <code>deno serve</code>. The image goes to this server
  only; nothing is stored.</p>
  <p id="status" class="muted" aria-live="polite">Checking the model&hellip;</p>

  <div id="picker" hidden>
    <label for="head">Answer in</label>
    <select id="head"><option value="">ImageNet (1000 classes)</option></select>
    <span id="head-labels" class="muted"></span>
  </div>

  <section id="drop" aria-label="Choose an image">
    <p>Drop an image here, paste one (Ctrl+V), or</p>
    <div class="buttons">
      <label><input id="file" class="visually-hidden" type="file" accept="image/*"><span class="button">Choose a photo</span></label>
      <label id="camera-button" hidden><input id="camera" class="visually-hidden" type="file" accept="image/*" capture="environment"><span class="button secondary">Take a photo</span></label>
    </div>
    <p class="muted">JPEG, PNG, GIF or TIFF.</p>
  </section>

  <p id="error" role="alert"></p>

  <section id="result" hidden aria-live="polite" aria-busy="false">
    <img id="preview" alt="The image being classified">
    <div>
      <h2 id="result-title">Top 5</h2>
      <p id="unknown" hidden></p>
      <ol id="predictions"></ol>
      <p id="imagenet" class="muted" hidden></p>
      <p id="timings" class="muted"></p>
    </div>
  </section>
</main>
<script type="module">
const $ = (id) => document.getElementById(id);
// Routes are relative to where the page is served (a platform may put a prefix before them).
const base = location.pathname.replace(/[/]+$/, "");
const NBSP = "\\u00a0";
const FORMATS = "Choose a JPEG, PNG, GIF or TIFF photo.";
// What went wrong, in the page's words, by the API's error code.
const MESSAGES = {
  UNSUPPORTED_MEDIA_TYPE: "This file is not an image. " + FORMATS,
  UNSUPPORTED_FORMAT: "This file is not an image this server can read. " + FORMATS,
  EMPTY: "This file is empty. " + FORMATS,
  TRUNCATED: "This image is cut short (incomplete). Try another copy of it.",
  CORRUPT: "This image is damaged and cannot be read. Try another copy of it.",
  TOO_SMALL: "This image is too small to classify.",
  TOO_LARGE: "This image has more pixels than this server accepts. Try a smaller copy.",
  TOO_COMPLEX: "This image takes too long to decode. Try a smaller or simpler copy.",
  BODY_TOO_LARGE: "This file is larger than this server accepts. Try a smaller copy.",
  OVERLOADED: "The server is busy. Try again in a moment.",
};
let heads = [];
let previewUrl;
let lastFile;

function percent(p) {
  return (p * 100).toFixed(p >= 0.1 ? 1 : 2) + "%";
}

function showPredictions(predictions, unsure) {
  const list = $("predictions");
  list.classList.toggle("unsure", unsure);
  list.replaceChildren(...predictions.map((p) => {
    const li = document.createElement("li");
    li.innerHTML = '<div class="row"><span class="label"></span><span class="pct"></span></div>' +
      '<div class="track" aria-hidden="true"><div class="bar"></div></div>';
    li.querySelector(".label").textContent = p.label;
    li.querySelector(".pct").textContent = percent(p.probability);
    li.querySelector(".bar").style.width = (p.probability * 100).toFixed(2) + "%";
    return li;
  }));
}

/** A head's answer: a plain notice when none of its classes fits, and what ImageNet says. */
function showHeadAnswer(body) {
  const head = heads.find((h) => h.name === body.head);
  const [top] = body.predictions;
  $("unknown").hidden = !body.unknown;
  $("unknown").textContent = body.unknown
    ? "None of these classes fits this image well: the best, " + top.label + " at " +
      percent(top.probability) + ", is under the " + percent(head ? head.threshold : 0) +
      " this head needs. Treat it as unknown."
    : "";
  const [first] = body.imagenet;
  $("imagenet").hidden = !first;
  $("imagenet").textContent = first
    ? "ImageNet says: " + first.label + " (" + percent(first.probability) + ")."
    : "";
}

function showTimings(t, roundTripMs, model) {
  const ms = (x) => x.toFixed(1) + NBSP + "ms";
  $("timings").textContent = "decode " + ms(t.decodeMs) + " · infer " + ms(t.inferMs) +
    " · server total " + ms(t.totalMs) + " · round trip " + ms(roundTripMs) + " · model " + model;
}

function showError(text) {
  $("result").hidden = true;
  $("error").textContent = text;
}

/** The page's message for an answer that is not 200. */
function failure(response, body) {
  const error = body && body.error;
  if (error && MESSAGES[error.code]) return MESSAGES[error.code];
  if (error && error.code === "MODEL_UNAVAILABLE") {
    return "The model is not available: " + error.message;
  }
  const why = error ? ": " + error.message : "";
  return "The server could not classify this image (" + response.status + why + ").";
}

async function classify(file) {
  if (!file) return;
  lastFile = file;
  $("error").textContent = "";
  // A file the browser knows is not an image (text, PDF, ...) is not sent; an unknown type is.
  if (file.type && !file.type.startsWith("image/")) {
    return showError("“" + file.name + "” is not an image. " + FORMATS);
  }
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  $("preview").src = previewUrl;
  $("result").hidden = false;
  $("result").setAttribute("aria-busy", "true");
  $("predictions").replaceChildren();
  $("unknown").hidden = $("imagenet").hidden = true;
  const head = $("head").value;
  $("result-title").textContent = head ? "Head " + head : "Top 5";
  $("timings").textContent = "Classifying…";
  const t0 = performance.now();
  try {
    const query = "?top=5" + (head ? "&head=" + encodeURIComponent(head) : "");
    const response = await fetch(base + "/v1/classify" + query, {
      method: "POST",
      headers: { "content-type": file.type || "application/octet-stream" },
      body: file,
    });
    const body = await response.json().catch(() => undefined);
    if (!response.ok || !body) return showError(failure(response, body));
    showPredictions(body.predictions, body.unknown === true);
    if (body.head) showHeadAnswer(body);
    showTimings(body.timings, performance.now() - t0, body.model);
  } catch {
    showError("The server does not answer. Check the connection and try again.");
  } finally {
    $("result").setAttribute("aria-busy", "false");
  }
}

/** The head picker, when the server has heads (GET /v1/models). */
async function loadHeads() {
  try {
    const response = await fetch(base + "/v1/models");
    if (!response.ok) return;
    heads = (await response.json()).heads || [];
  } catch {
    return;
  }
  if (heads.length === 0) return;
  for (const head of heads) {
    const option = document.createElement("option");
    option.value = head.name;
    option.textContent = head.name + " (" + head.labels.length + " classes)";
    $("head").append(option);
  }
  $("picker").hidden = false;
}

function showHeadLabels() {
  const head = heads.find((h) => h.name === $("head").value);
  $("head-labels").textContent = head ? "Classes: " + head.labels.join(", ") : "";
}

$("head").addEventListener("change", () => {
  showHeadLabels();
  if (lastFile) classify(lastFile);
});
// A camera capture makes sense on touch screens, and where the browser knows "capture".
if (matchMedia("(pointer: coarse)").matches || "capture" in HTMLInputElement.prototype) {
  $("camera-button").hidden = false;
}
for (const id of ["file", "camera"]) {
  $(id).addEventListener("change", (event) => classify(event.target.files[0]));
}
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  classify(event.dataTransfer.files[0]);
});
document.addEventListener("paste", (event) => {
  const item = [...event.clipboardData.items].find((i) => i.type.startsWith("image/"));
  if (item) classify(item.getAsFile());
});

async function checkHealth() {
  try {
    const response = await fetch(base + "/healthz");
    const body = await response.json();
    if (body.status === "ready") {
      await loadHeads();
      $("status").textContent = "Model " + body.model + " is ready.";
    } else if (body.status === "failed") {
      $("status").textContent = "The model failed to load: " + body.reason;
    } else {
      $("status").textContent = "Loading the model…";
      setTimeout(checkHealth, 500);
    }
  } catch {
    $("status").textContent = "The server does not answer.";
  }
}
checkHealth();
</script>
</body>
</html>
`;
