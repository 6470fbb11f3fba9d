/**
 * Choosing a source from its string: `-` is stdin, `http(s)://` a camera (snapshot or MJPEG,
 * decided by the response), `mqtt(s)://` a subscription, anything else a folder to watch.
 *
 * @module
 */
import type { BackoffOptions } from "../../clock.ts";
import { type CredentialOptions, takeCredentials } from "../auth/credentials.ts";
import type { Redactor } from "../redact.ts";
import { secretsOf } from "../auth/credentials.ts";
import type { Source } from "../types.ts";
import { HttpSource } from "./http_snapshot.ts";
import { MqttSource } from "./mqtt.ts";
import { StreamSource } from "./stdin.ts";
import { WatchDirSource } from "./watch_dir.ts";

/** Options applying to every source made by {@linkcode createSource}. */
export interface CreateSourceOptions extends CredentialOptions {
  /** Snapshot polling interval in ms. @default {2000} */
  everyMs?: number;
  /** Connect timeout in ms. @default {10000} */
  connectTimeoutMs?: number;
  /** Read timeout in ms. @default {10000} */
  readTimeoutMs?: number;
  /** Reconnect delays. @default {{initialMs: 1000, maxMs: 60000}} */
  backoff?: BackoffOptions;
  /** MQTT shared-subscription group. */
  group?: string;
  /** Watched folders: ms a file must stay unchanged. @default {500} */
  settleMs?: number;
  /** Learns the secrets of each source so that logs and errors never show them. */
  redactor?: Redactor;
}

/**
 * Makes the source a string names.
 *
 * @throws {TypeError} for a malformed URL or credentials; {@linkcode RangeError} for bad numbers.
 */
export function createSource(spec: string, options: CreateSourceOptions = {}): Source {
  if (spec === "-") return new StreamSource();
  if (/^https?:\/\//i.test(spec)) {
    const { url, credentials } = takeCredentials(new URL(spec), options);
    for (const secret of secretsOf(credentials)) options.redactor?.add(secret);
    return new HttpSource({
      url,
      credentials,
      everyMs: options.everyMs,
      connectTimeoutMs: options.connectTimeoutMs,
      readTimeoutMs: options.readTimeoutMs,
      backoff: options.backoff,
    });
  }
  if (/^(mqtts?|wss?):\/\//i.test(spec)) {
    const source = new MqttSource({
      url: spec,
      group: options.group,
      connectTimeoutMs: options.connectTimeoutMs,
      backoff: options.backoff,
    });
    options.redactor?.add(source.password);
    return source;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(spec)) {
    throw new TypeError(`unsupported source ${JSON.stringify(spec.split("://")[0] + "://...")}`);
  }
  return new WatchDirSource({ dir: spec, settleMs: options.settleMs });
}
