/**
 * Keeping camera credentials out of logs, events and errors: URLs lose their userinfo and
 * secret-looking query parameters, and every known secret (passwords, tokens, the Basic header
 * value) is masked in any text before it leaves the process.
 *
 * @module
 */

/** Query parameters whose values are treated as secrets. */
const SECRET_PARAMS =
  /^(token|access_token|auth|authorization|password|passwd|pass|pwd|key|api_key|apikey|secret|signature|sig)$/i;

/** Scheme + userinfo anywhere in a text: `http://user:pass@`. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi;

/** The mask put in place of a secret. */
export const MASK = "***";

/**
 * A URL as it may be shown: no userinfo, secret query values masked.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redact.ts";
 * redactUrl("http://admin:12345@cam/snap.jpg?token=abc"); // "http://cam/snap.jpg?token=***"
 * ```
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return String(url).replace(USERINFO, "$1");
  }
  parsed.username = "";
  parsed.password = "";
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) parsed.searchParams.set(key, MASK);
  }
  return parsed.href.replaceAll("%2A%2A%2A", MASK);
}

/** Masks a set of secrets in any text. */
export class Redactor {
  readonly #secrets = new Set<string>();

  /** Adds a secret (and its URL-encoded form); empty strings are ignored. */
  add(secret: string | undefined): void {
    if (!secret) return;
    this.#secrets.add(secret);
    this.#secrets.add(encodeURIComponent(secret));
  }

  /** The text with every known secret and every URL userinfo masked. */
  redact(text: string): string {
    let out = text.replace(USERINFO, "$1");
    // Longest first, so a secret containing another is masked whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      out = out.replaceAll(secret, MASK);
    }
    return out;
  }
}
