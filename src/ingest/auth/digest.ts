/**
 * HTTP Digest authentication (RFC 7616): challenge parsing and responses for MD5, SHA-256 and
 * SHA-512-256 (and their `-sess` variants) with `qop=auth`, or the RFC 2069 form without qop
 * that older cameras still send.
 *
 * @module
 */
import { createHash } from "node:crypto";

/** One challenge of a `WWW-Authenticate` header. */
export interface Challenge {
  /** The scheme, lower-case: "digest", "basic", "bearer". */
  scheme: string;
  /** Its parameters, names lower-cased, quotes removed. */
  params: Record<string, string>;
}

const ITEM = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*))?\s*,?/y;

/**
 * Parses a `WWW-Authenticate` header, which may hold several challenges.
 *
 * @example
 * ```ts
 * import { parseChallenges } from "./digest.ts";
 * parseChallenges('Digest realm="cam", nonce="abc", qop="auth", Basic realm="cam"').length; // 2
 * ```
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  ITEM.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (ITEM.lastIndex < header.length && (match = ITEM.exec(header))) {
    const [, name, raw] = match;
    if (raw === undefined) {
      out.push({ scheme: name.toLowerCase(), params: {} });
    } else if (out.length > 0) {
      const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, "$1") : raw;
      out[out.length - 1].params[name.toLowerCase()] = value;
    }
  }
  return out;
}

const ALGORITHMS: Record<string, string> = {
  "md5": "md5",
  "sha-256": "sha256",
  "sha-512-256": "sha512-256",
};

function hashName(algorithm: string): string | undefined {
  return ALGORITHMS[algorithm.toLowerCase().replace(/-sess$/, "")];
}

/** Whether a challenge is a Digest challenge this module can answer. */
export function isSupportedDigest(challenge: Challenge): boolean {
  if (challenge.scheme !== "digest" || !challenge.params.nonce) return false;
  if (!hashName(challenge.params.algorithm ?? "MD5")) return false;
  const qop = challenge.params.qop;
  return qop === undefined || qop.split(",").some((q) => q.trim().toLowerCase() === "auth");
}

/** The strongest supported Digest challenge (SHA-512-256 > SHA-256 > MD5), if any. */
export function pickDigest(challenges: Challenge[]): Challenge | undefined {
  const rank = (c: Challenge) => {
    const h = hashName(c.params.algorithm ?? "MD5");
    return h === "sha512-256" ? 3 : h === "sha256" ? 2 : 1;
  };
  return challenges.filter(isSupportedDigest).sort((a, b) => rank(b) - rank(a))[0];
}

/** What one Digest response is computed from. */
export interface DigestInput {
  user: string;
  password: string;
  method: string;
  /** The request target: path and query. */
  uri: string;
  challenge: Challenge;
  /** Request counter for this nonce, from 1. */
  nc: number;
  /** Client nonce. */
  cnonce: string;
}

/**
 * The `Authorization` value answering a Digest challenge.
 *
 * @throws {RangeError} for an unsupported algorithm or qop.
 */
export function digestAuthorization(input: DigestInput): string {
  const p = input.challenge.params;
  const algorithm = p.algorithm ?? "MD5";
  const name = hashName(algorithm);
  if (!name || !isSupportedDigest(input.challenge)) {
    throw new RangeError(`unsupported Digest challenge (algorithm ${algorithm}, qop ${p.qop})`);
  }
  const h = (text: string) => createHash(name).update(text, "utf8").digest("hex");
  const realm = p.realm ?? "";
  const nc = input.nc.toString(16).padStart(8, "0");
  let ha1 = h(`${input.user}:${realm}:${input.password}`);
  if (/-sess$/i.test(algorithm)) ha1 = h(`${ha1}:${p.nonce}:${input.cnonce}`);
  const ha2 = h(`${input.method}:${input.uri}`);
  const qop = p.qop === undefined ? undefined : "auth";
  const response = qop
    ? h(`${ha1}:${p.nonce}:${nc}:${input.cnonce}:${qop}:${ha2}`)
    : h(`${ha1}:${p.nonce}:${ha2}`);
  const userhash = p.userhash?.toLowerCase() === "true";
  const username = userhash ? h(`${input.user}:${realm}`) : input.user;
  const q = (s: string) => `"${s.replace(/(["\\])/g, "\\$1")}"`;
  const parts = [
    `username=${q(username)}`,
    `realm=${q(realm)}`,
    `uri=${q(input.uri)}`,
    `algorithm=${algorithm}`,
    `nonce=${q(p.nonce)}`,
  ];
  if (qop) parts.push(`nc=${nc}`, `cnonce=${q(input.cnonce)}`, `qop=${qop}`);
  parts.push(`response=${q(response)}`);
  if (p.opaque !== undefined) parts.push(`opaque=${q(p.opaque)}`);
  if (userhash) parts.push("userhash=true");
  return `Digest ${parts.join(", ")}`;
}
