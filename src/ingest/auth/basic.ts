/**
 * HTTP Basic authentication (RFC 7617), UTF-8.
 *
 * @module
 */

/**
 * The `Authorization` value for a user and password.
 *
 * @example
 * ```ts
 * import { basicAuthorization } from "./basic.ts";
 * basicAuthorization("Aladdin", "open sesame"); // "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
 * ```
 */
export function basicAuthorization(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/** The `Authorization` value for a Bearer token. */
export function bearerAuthorization(token: string): string {
  return `Bearer ${token}`;
}
