/**
 * Where camera credentials come from: the URL's userinfo (`http://user:pass@cam/...`), the
 * `--user user:pass` / `--token TOKEN` options, or the environment variables
 * {@linkcode USER_ENV} and {@linkcode TOKEN_ENV}, in that order.
 *
 * @module
 */
import { readEnv } from "../../_util.ts";
import { basicAuthorization } from "./basic.ts";

/** A user and password (for Basic or Digest, whichever the camera asks for) or a Bearer token. */
export type Credentials =
  | { scheme: "password"; user: string; password: string }
  | { scheme: "bearer"; token: string };

/** Environment variable holding `user:password` for cameras whose URL has none. */
export const USER_ENV = "MOBILENET_EDGE_CAMERA_USER";
/** Environment variable holding a Bearer token (Home Assistant long-lived access token). */
export const TOKEN_ENV = "MOBILENET_EDGE_CAMERA_TOKEN";

/** Options of {@linkcode takeCredentials}. */
export interface CredentialOptions {
  /** `user:password`. */
  user?: string;
  /** A Bearer token. */
  token?: string;
  /** Reads an environment variable. @default {Deno.env.get} */
  env?: (name: string) => string | undefined;
}

/** Splits `user:password` at the first colon. */
export function parseUserPassword(text: string): Credentials {
  const at = text.indexOf(":");
  if (at < 0) throw new TypeError("credentials must be given as user:password");
  return { scheme: "password", user: text.slice(0, at), password: text.slice(at + 1) };
}

/**
 * The URL without its userinfo, and the credentials to use with it.
 *
 * @throws {TypeError} for `user` without a colon.
 */
export function takeCredentials(
  url: URL,
  options: CredentialOptions = {},
): { url: URL; credentials?: Credentials } {
  const clean = new URL(url.href);
  clean.username = "";
  clean.password = "";
  if (url.username || url.password) {
    return {
      url: clean,
      credentials: {
        scheme: "password",
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
      },
    };
  }
  if (options.user) return { url: clean, credentials: parseUserPassword(options.user) };
  if (options.token) return { url: clean, credentials: { scheme: "bearer", token: options.token } };
  const env = options.env ?? readEnv;
  const user = env(USER_ENV);
  if (user) return { url: clean, credentials: parseUserPassword(user) };
  const token = env(TOKEN_ENV);
  if (token) return { url: clean, credentials: { scheme: "bearer", token } };
  return { url: clean };
}

/** The strings of `credentials` that must never be shown. */
export function secretsOf(credentials: Credentials | undefined): string[] {
  if (!credentials) return [];
  if (credentials.scheme === "bearer") return [credentials.token];
  const header = basicAuthorization(credentials.user, credentials.password);
  return [credentials.password, header.slice("Basic ".length)];
}
