/**
 * The page served at `GET /`: one HTML document, no build step, no external resources. Pick,
 * drop or paste an image, or take a photo with a phone's camera; it shows the image, the top-5
 * as labelled bars and the timings. It is a TypeScript string so that it travels in the module
 * graph (no file read, nothing extra to bundle on edge platforms).
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
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --muted: #6b7280; --line: #d1d5db; }
  * { box-sizing: border-box; }
  [hidden] { display: none !important; }
  body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
  h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
  p { margin: .25rem 0 1rem; }
  .muted { color: var(--muted); font-size: .9rem; }
  #drop { border: 2px dashed var(--line); border-radius: .75rem; padding: 1.25rem; text-align: center; }
  #drop.over { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 8%, transparent); }
  .buttons { display: flex; gap: .75rem; justify-content: center; flex-wrap: wrap; margin-top: .75rem; }
  .button { display: inline-block; padding: .55rem 1rem; border-radius: .5rem; background: var(--accent);
    color: #fff; cursor: pointer; font-weight: 600; }
  .button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
    white-space: nowrap; }
  input[type=file]:focus-visible + .button { outline: 3px solid var(--accent); outline-offset: 2px; }
  #result { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.2fr); gap: 1.25rem;
    margin-top: 1.5rem; align-items: start; }
  @media (max-width: 36rem) { #result { grid-template-columns: 1fr; } }
  #preview { width: 100%; border-radius: .5rem; display: block; }
  #predictions { list-style: none; margin: 0; padding: 0; }
  #predictions li { margin: 0 0 .6rem; }
  .row { display: flex; justify-content: space-between; gap: .5rem; }
  .label { font-weight: 600; overflow-wrap: anywhere; }
  .pct { font-variant-numeric: tabular-nums; }
  .track { height: .6rem; border-radius: .3rem; background: color-mix(in srgb, var(--muted) 25%, transparent); }
  .bar { height: 100%; border-radius: .3rem; background: var(--accent); min-width: 2px; }
  #error { color: #b91c1c; font-weight: 600; }
  #timings { font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<main>
  <h1>What is in this picture?</h1>
  <p>MobileNet v1 on WebAssembly, served by <code>deno serve</code>. The image goes to this server
  only; nothing is stored.</p>
  <p id="status" class="muted" aria-live="polite">Checking the model&hellip;</p>

  <section id="drop" aria-label="Choose an image">
    <p>Drop an image here, paste one (Ctrl+V), or</p>
    <div class="buttons">
      <label><input id="file" class="visually-hidden" type="file" accept="image/*"><span class="button">Choose a photo</span></label>
      <label><input id="camera" class="visually-hidden" type="file" accept="image/*" capture="environment"><span class="button secondary">Take a photo</span></label>
    </div>
    <p class="muted">JPEG, PNG, GIF or TIFF.</p>
  </section>

  <p id="error" role="alert"></p>

  <section id="result" hidden aria-live="polite" aria-busy="false">
    <img id="preview" alt="The image being classified">
    <div>
      <h2 style="font-size:1.1rem;margin:0 0 .75rem">Top 5</h2>
      <ol id="predictions"></ol>
      <p id="timings" class="muted"></p>
    </div>
  </section>
</main>
<script type="module">
const $ = (id) => document.getElementById(id);
// Routes are relative to where the page is served (a platform may put a prefix before them).
const base = location.pathname.replace(/[/]+$/, "");
let previewUrl;

function percent(p) {
  return (p * 100).toFixed(p >= 0.1 ? 1 : 2) + "%";
}

function showPredictions(predictions) {
  const list = $("predictions");
  list.replaceChildren(...predictions.map((p) => {
    const li = document.createElement("li");
    const pct = percent(p.probability);
    li.innerHTML = '<div class="row"><span class="label"></span><span class="pct"></span></div>' +
      '<div class="track" aria-hidden="true"><div class="bar"></div></div>';
    li.querySelector(".label").textContent = p.label;
    li.querySelector(".pct").textContent = pct;
    li.querySelector(".bar").style.width = (p.probability * 100).toFixed(2) + "%";
    return li;
  }));
}

function showTimings(t, roundTripMs, model) {
  const ms = (x) => x.toFixed(1) + " ms";
  $("timings").textContent = "decode " + ms(t.decodeMs) + " · infer " + ms(t.inferMs) +
    " · server total " + ms(t.totalMs) + " · round trip " + ms(roundTripMs) + " · model " + model;
}

async function classify(file) {
  if (!file) return;
  $("error").textContent = "";
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  $("preview").src = previewUrl;
  $("result").hidden = false;
  $("result").setAttribute("aria-busy", "true");
  $("predictions").replaceChildren();
  $("timings").textContent = "Classifying…";
  const t0 = performance.now();
  try {
    const response = await fetch(base + "/v1/classify?top=5", {
      method: "POST",
      headers: { "content-type": file.type || "application/octet-stream" },
      body: file,
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
    showPredictions(body.predictions);
    showTimings(body.timings, performance.now() - t0, body.model);
  } catch (error) {
    $("result").hidden = true;
    $("error").textContent = "Could not classify this image: " + error.message;
  } finally {
    $("result").setAttribute("aria-busy", "false");
  }
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
