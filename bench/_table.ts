/**
 * The Markdown tables the benches print: the first column left-aligned, the others
 * right-aligned, numbers with `digits` decimals.
 *
 * @module
 */

/** A Markdown table of `rows` under `headers`. */
export function markdownTable(
  headers: string[],
  rows: (string | number)[][],
  digits = 1,
): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === "number" ? c.toFixed(digits) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...cells.map(line)]
    .join("\n");
}
