/**
 * Reading the docs as the doc test needs them: fenced blocks, the examples marked with a
 * `<!-- doc-test ... -->` comment, relative links, and the anchors GitHub gives headings.
 *
 * @module
 */

/** A fenced code block. */
export interface Fence {
  /** The info string's first word (`ts`, `json`, `console`, ...), or "". */
  lang: string;
  /** The info string after the language (`ignore`, ...). */
  info: string;
  /** The block's lines, without the fences and without the fence's indentation. */
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
}

/** What one marked example asks the test to do. */
export type Example =
  /** A terminal transcript: each `$ COMMAND` line and the output after it. */
  | { kind: "transcript"; where: string; merged: boolean; steps: Step[] }
  /** One command whose stdout is the JSON value(s) of the block. */
  | { kind: "json"; where: string; command: string; expected: unknown[] }
  /** A TypeScript block to run; the next block is its stdout. */
  | { kind: "script"; where: string; code: string; expected: string };

/** One command of a transcript and the output shown for it. */
export interface Step {
  command: string;
  expected: string;
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/;
const MARKER = /^<!--\s*doc-test(?:\s+(.*?))?\s*-->\s*$/;

/** The fenced blocks of `markdown`, in order, with the line each starts on. */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split("\n");
  const found: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i].match(FENCE);
    if (!open) continue;
    const [, indent, marker, lang, info] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = lines[j].match(FENCE);
      if (close && close[2].startsWith(marker) && close[3] === "" && close[4] === "") break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    found.push({ lang, info, text: body.join("\n"), line: i + 1 });
    i = j;
  }
  return found;
}

/**
 * The marked examples of a document. A marker is an HTML comment on its own line, right before
 * a fenced block (blank lines between are allowed):
 *
 * - `<!-- doc-test -->` before a transcript (lines `$ COMMAND`, each followed by its output):
 *   every command's stdout must be the output shown;
 * - `<!-- doc-test 2>&1 -->`: the same with stderr merged in, as a terminal shows both;
 * - `<!-- doc-test $ COMMAND -->` before a `json` block: COMMAND's stdout, one JSON value per
 *   line, must equal the values of the block (pretty-printed there); COMMAND must be shown in
 *   the fenced block before the marker, as readers do not see the comment;
 * - `<!-- doc-test -->` before a `ts` block: the block is run, and the next fenced block is its
 *   stdout.
 *
 * @throws {Error} on a marker not followed by a block it can use, naming file and line
 */
export function examples(file: string, markdown: string): Example[] {
  const lines = markdown.split("\n");
  const blocks = fences(markdown);
  const found: Example[] = [];
  lines.forEach((text, index) => {
    const marker = text.match(MARKER);
    if (!marker) return;
    const where = `${file}:${index + 1}`;
    const next = blocks.findIndex((b) => b.line > index + 1);
    const between = lines.slice(index + 1, (blocks[next]?.line ?? 0) - 1);
    if (next < 0 || between.some((l) => l.trim() !== "")) {
      throw new Error(`${where}: a doc-test marker must be followed by a fenced block`);
    }
    found.push(example(where, (marker[1] ?? "").trim(), blocks, next));
  });
  return found;
}

function example(where: string, argument: string, blocks: Fence[], index: number): Example {
  const block = blocks[index];
  if (argument.startsWith("$ ")) {
    const command = argument.slice(2).trim();
    const shown = (blocks[index - 1]?.text ?? "").replaceAll("\\\n", "");
    if (!shown.includes(command)) {
      throw new Error(`${where}: the command of the marker is not shown in the block before it`);
    }
    return { kind: "json", where, command, expected: jsonValues(block.text, where) };
  }
  if (block.lang === "ts") {
    const output = blocks[index + 1];
    if (!output) throw new Error(`${where}: a marked ts block must be followed by its output`);
    return { kind: "script", where, code: block.text, expected: output.text };
  }
  if (argument !== "" && argument !== "2>&1") {
    throw new Error(`${where}: unknown doc-test marker argument "${argument}"`);
  }
  return {
    kind: "transcript",
    where,
    merged: argument === "2>&1",
    steps: transcript(block, where),
  };
}

/** Splits a transcript into its `$ ` commands and the output after each. */
function transcript(block: Fence, where: string): Step[] {
  const steps: Step[] = [];
  for (const line of block.text.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2).trim(), expected: "" });
    else if (steps.length === 0) throw new Error(`${where}: a transcript starts with "$ COMMAND"`);
    else steps.at(-1)!.expected += `${line}\n`;
  }
  return steps;
}

/** The JSON values written one after another in `text` (each may span lines). */
export function jsonValues(text: string, where = "json"): unknown[] {
  const values: unknown[] = [];
  let depth = 0, start = -1, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth++ === 0) start = i;
    } else if ((c === "}" || c === "]") && --depth === 0) {
      values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  if (depth !== 0 || values.length === 0) throw new Error(`${where}: not a JSON value`);
  return values;
}

/** The 1-based numbers of the lines that belong to fenced blocks, fences included. */
function codeLines(markdown: string): Set<number> {
  const lines = new Set<number>();
  for (const block of fences(markdown)) {
    const length = block.text.split("\n").length + 2;
    for (let l = block.line; l < block.line + length; l++) lines.add(l);
  }
  return lines;
}

/** The relative link targets of `markdown` (outside code), as written: `path#anchor`. */
export function relativeLinks(markdown: string): { target: string; line: number }[] {
  const code = codeLines(markdown);
  const links: { target: string; line: number }[] = [];
  markdown.split("\n").forEach((text, index) => {
    if (code.has(index + 1)) return;
    const prose = text.replace(/`[^`]*`/g, "");
    for (const [, target] of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ target, line: index + 1 });
    }
  });
  return links;
}

/**
 * The anchors GitHub makes of the headings of `markdown`: lower case, punctuation dropped,
 * spaces as hyphens, `-1`, `-2` ... for repeats (`## The arm64 check` -> `the-arm64-check`).
 */
export function anchors(markdown: string): Set<string> {
  const code = codeLines(markdown);
  const seen = new Map<string, number>();
  const found = new Set<string>();
  markdown.split("\n").forEach((line, index) => {
    if (code.has(index + 1) || !/^#{1,6} /.test(line)) return;
    const slug = line.replace(/^#+ /, "").trim().toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    found.add(n === 0 ? slug : `${slug}-${n}`);
  });
  return found;
}
