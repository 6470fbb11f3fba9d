/**
 * Authenticated requests to a camera: Bearer sent on every request; for a user and password,
 * the first request goes out without credentials and the camera's challenge decides Basic or
 * Digest (so a password is never sent in the clear to a camera that asked for Digest). The
 * scheme and Digest nonce are then reused (with an increasing `nc`), so a snapshot poll costs
 * one request, and a new challenge (a stale nonce) is answered once per request.
 *
 * @module
 */
import { basicAuthorization, bearerAuthorization } from "./basic.ts";
import type { Credentials } from "./credentials.ts";
import { type Challenge, digestAuthorization, parseChallenges, pickDigest } from "./digest.ts";
import { hex } from "../../_util.ts";

/** Performs one HTTP request (the global `fetch` by default). */
export type FetchLike = (url: URL, init: RequestInit) => Promise<Response>;

function randomHex(bytes: number): string {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return hex(data);
}

/** Adds credentials to requests to one camera. */
export class HttpAuth {
  readonly #credentials?: Credentials;
  #scheme?: "basic" | "digest";
  #digest?: Challenge;
  #nc = 0;

  /** Creates the helper; without credentials requests go out as they are. */
  constructor(credentials?: Credentials) {
    this.#credentials = credentials;
  }

  /** The scheme in use once a challenge was answered ("bearer" from the start). */
  get scheme(): "basic" | "digest" | "bearer" | undefined {
    return this.#credentials?.scheme === "bearer" ? "bearer" : this.#scheme;
  }

  #authorization(method: string, url: URL): string | undefined {
    const c = this.#credentials;
    if (!c) return undefined;
    if (c.scheme === "bearer") return bearerAuthorization(c.token);
    if (this.#scheme === "basic") return basicAuthorization(c.user, c.password);
    if (this.#scheme === "digest" && this.#digest) {
      return digestAuthorization({
        user: c.user,
        password: c.password,
        method,
        uri: url.pathname + url.search,
        challenge: this.#digest,
        nc: ++this.#nc,
        cnonce: randomHex(16),
      });
    }
    return undefined;
  }

  /** Learns the scheme from a 401's challenges; false when none can be answered. */
  #learn(response: Response): boolean {
    const header = response.headers.get("www-authenticate");
    if (!header || this.#credentials?.scheme !== "password") return false;
    const challenges = parseChallenges(header);
    const digest = pickDigest(challenges);
    if (digest) {
      this.#scheme = "digest";
      this.#digest = digest;
      this.#nc = 0;
      return true;
    }
    if (challenges.some((c) => c.scheme === "basic")) {
      this.#scheme = "basic";
      return true;
    }
    return false;
  }

  /**
   * Sends a request with credentials; on a 401 whose challenge it can answer, sends it once
   * more. The caller gets the last response (a 401 when the credentials are wrong).
   */
  async fetch(url: URL, init: RequestInit, fetcher: FetchLike = fetch): Promise<Response> {
    const method = init.method ?? "GET";
    const send = (authorization: string | undefined) => {
      const headers = new Headers(init.headers);
      if (authorization) headers.set("authorization", authorization);
      return fetcher(url, { ...init, headers });
    };
    const first = await send(this.#authorization(method, url));
    if (first.status !== 401 || !this.#learn(first)) return first;
    await first.body?.cancel();
    return await send(this.#authorization(method, url));
  }
}
