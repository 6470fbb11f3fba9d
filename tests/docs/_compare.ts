/**
 * How the doc test compares an output shown in the docs with what the command prints now.
 * Both sides are normalised the same way, so the docs can show a real run's output:
 *
 * - times are not compared: a number followed by ` ms` or ` s` becomes `<n> ms` / `<n> s`, the
 *   value of every JSON key ending in `Ms` (`"decodeMs"`, `"totalMs"`, ...) becomes `<n>`, and
 *   ISO 8601 timestamps become `<time>`;
 * - the scratch directory the examples run in prints as `/home/pi` (the docs' user directory);
 * - trailing spaces and blank lines are dropped (the commands run with `NO_COLOR=1`);
 * - numbers with a decimal point may differ by up to 1e-4 (the last digit of a 4-decimal
 *   probability: the fused multiply-add kernels of one machine and the multiply + add of another
 *   round differently); integers, labels and every other character must be equal.
 *
 * @module
 */

/** The largest difference allowed between two decimal numbers. */
export const TOLERANCE = 1.01e-4;

const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g;
const DECIMAL = /-?\d+\.\d+(?:e-?\d+)?/g;

/** What the scratch directory prints as in the docs. */
export const USER_DIR = "/home/pi";

/** `text` normalised as described in the module doc; `scratch` is the examples' directory. */
export function normalise(text: string, scratch = "\0"): string {
  return text
    .replaceAll(scratch, USER_DIR)
    .replace(ISO_TIME, "<time>")
    .replace(/\b\d+(?:\.\d+)? (ms|s)\b/g, "<n> $1")
    .replace(/("\w*Ms":\s*)-?\d+(?:\.\d+)?/g, "$1<n>")
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .replace(/\n+$/, "");
}

/**
 * Compares a shown output with the actual one, both already normalised.
 *
 * @returns undefined when they match, else the first line that differs, shown and actual
 */
export function compareText(shown: string, actual: string): string | undefined {
  const a = shown.split("\n"), b = actual.split("\n");
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (!sameLine(a[i], b[i])) {
      return `line ${i + 1} differs:\n  shown:  ${a[i] ?? "(nothing)"}\n  actual: ${
        b[i] ?? "(nothing)"
      }`;
    }
  }
  return undefined;
}

function sameLine(shown: string | undefined, actual: string | undefined): boolean {
  if (shown === undefined || actual === undefined) return shown === actual;
  const words = (s: string) => s.split(DECIMAL);
  const numbers = (s: string) => [...s.matchAll(DECIMAL)].map((m) => Number(m[0]));
  const [x, y] = [numbers(shown), numbers(actual)];
  return words(shown).join("\0") === words(actual).join("\0") &&
    x.length === y.length && x.every((v, i) => Math.abs(v - y[i]) <= TOLERANCE);
}

/**
 * Compares a shown JSON value with the actual one: times as `<n>`, timestamps and the scratch
 * directory as in {@linkcode normalise}, decimals within {@linkcode TOLERANCE}.
 *
 * @returns undefined when they match, else the path of the first difference and both values
 */
export function compareJson(
  shown: unknown,
  actual: unknown,
  scratch = "\0",
  path = "$",
): string | undefined {
  const differ = () =>
    `${path} differs:\n  shown:  ${JSON.stringify(shown)}\n  actual: ${JSON.stringify(actual)}`;
  if (typeof shown === "number" && typeof actual === "number") {
    if (path.endsWith("Ms")) return undefined;
    const close = Number.isInteger(shown) && Number.isInteger(actual)
      ? shown === actual
      : Math.abs(shown - actual) <= TOLERANCE;
    return close ? undefined : differ();
  }
  if (typeof shown === "string" && typeof actual === "string") {
    return normalise(shown) === normalise(actual, scratch) ? undefined : differ();
  }
  if (Array.isArray(shown) && Array.isArray(actual)) {
    if (shown.length !== actual.length) return differ();
    for (let i = 0; i < shown.length; i++) {
      const found = compareJson(shown[i], actual[i], scratch, `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (isObject(shown) && isObject(actual)) {
    const keys = Object.keys(shown);
    if (keys.join() !== Object.keys(actual).join()) return differ();
    for (const key of keys) {
      const found = compareJson(shown[key], actual[key], scratch, `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return shown === actual ? undefined : differ();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
