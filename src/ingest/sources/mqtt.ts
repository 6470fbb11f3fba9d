/**
 * The MQTT source: `mqtt://[user:pass@]host:port/<topic filter>`, each message's payload an
 * image (Frigate's `frigate/<camera>/<label>/snapshot`). Each topic is its own camera for the
 * scheduler (`mqtt://host:port/<topic>`). A retained message delivered at subscribe time is
 * handled once and marked `retained` (a reconnect that delivers the same retained snapshot
 * again is skipped). With `group`, the subscription is shared (`$share/<group>/<filter>`):
 * several ingest processes split the messages and each is inferred once.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Backoff, type BackoffOptions } from "../../clock.ts";
import { IngestSourceError } from "../errors.ts";
import {
  connectMqtt,
  endMqtt,
  type MqttAddress,
  type MqttClient,
  parseMqttUrl,
  sharedFilter,
} from "../mqtt_connect.ts";
import type { Source, SourceContext } from "../types.ts";
import { waitAfterFailure } from "./_offline.ts";

/** Options of {@linkcode MqttSource}. */
export interface MqttSourceOptions {
  /** `mqtt://[user:pass@]host:port/<topic filter>`. */
  url: string;
  /** Shared-subscription group name. */
  group?: string;
  /** Time allowed to connect. @default {10000} */
  connectTimeoutMs?: number;
  /** Subscription QoS. @default {1} */
  qos?: 0 | 1 | 2;
  /** Reconnect delays. @default {{initialMs: 1000, maxMs: 60000}} */
  backoff?: BackoffOptions;
}

const RETAINED_LIMIT = 4096;

/** Image payloads from an MQTT topic filter. */
export class MqttSource implements Source {
  /** How the source is shown: broker and (shared) filter, no credentials. */
  readonly name: string;
  readonly #address: MqttAddress;
  readonly #filter: string;
  readonly #options: MqttSourceOptions;
  /** Digest of the last retained payload handled, per topic. */
  readonly #retained = new Map<string, string>();

  /** Creates the source. @throws {TypeError} for a malformed address or group. */
  constructor(options: MqttSourceOptions) {
    this.#address = parseMqttUrl(options.url);
    this.#filter = sharedFilter(this.#address.topic, options.group);
    this.name = `${this.#address.broker}/${this.#filter}`;
    this.#options = options;
  }

  /** The broker's password, for redaction. */
  get password(): string | undefined {
    return this.#address.password;
  }

  /** Subscribes and delivers frames until abort, reconnecting with backoff. */
  async run(context: SourceContext): Promise<void> {
    const { signal, clock } = context;
    const backoff = new Backoff({ random: () => clock.random(), ...this.#options.backoff });
    while (!signal.aborted) {
      try {
        await this.#session(context, () => backoff.reset());
      } catch (error) {
        if (signal.aborted) break;
        await waitAfterFailure(context, backoff, error);
      }
    }
  }

  /** One connection: resolves on abort, rejects when the connection is lost. */
  async #session(context: SourceContext, online: () => void): Promise<void> {
    const client = await connectMqtt(this.#address, {
      connectTimeoutMs: this.#options.connectTimeoutMs ?? 10_000,
      signal: context.signal,
    });
    const lost = Promise.withResolvers<void>();
    lost.promise.catch(() => {}); // awaited below; a loss during subscribe is not unhandled
    const onAbort = () => lost.resolve();
    context.signal.addEventListener("abort", onAbort, { once: true });
    client.on("error", (error) => lost.reject(new IngestSourceError("NETWORK", error.message)));
    client.on("close", () => lost.reject(new IngestSourceError("NETWORK", "connection lost")));
    client.on(
      "message",
      (topic, payload, packet) => this.#message(context, topic, payload, packet.retain),
    );
    try {
      const subscribed = this.#subscribe(client);
      subscribed.catch(() => {}); // when the connection is lost first, `lost` reports it
      await Promise.race([subscribed, lost.promise]);
      online();
      context.status("connection", "online", `subscribed to ${this.#filter}`);
      await lost.promise;
    } finally {
      context.signal.removeEventListener("abort", onAbort);
      client.removeAllListeners("close");
      client.removeAllListeners("message");
      client.on("error", () => {});
      await endMqtt(client, true);
    }
  }

  async #subscribe(client: MqttClient): Promise<void> {
    const granted = await client.subscribeAsync(this.#filter, { qos: this.#options.qos ?? 1 });
    if (granted.some((g) => g.qos === 128)) {
      throw new IngestSourceError(
        "PROTOCOL",
        `the broker refused the subscription ${this.#filter}`,
      );
    }
  }

  #message(context: SourceContext, topic: string, payload: Uint8Array, retain: boolean): void {
    const bytes = new Uint8Array(payload); // a copy: the client's buffer may be pooled
    if (retain) {
      const digest = createHash("sha1").update(bytes).digest("hex");
      if (this.#retained.get(topic) === digest) return; // already handled
      this.#retained.delete(topic);
      this.#retained.set(topic, digest);
      if (this.#retained.size > RETAINED_LIMIT) {
        this.#retained.delete(this.#retained.keys().next().value!);
      }
    }
    context.emit({
      source: `${this.#address.broker}/${topic}`,
      bytes,
      time: context.clock.now(),
      ...(retain ? { retained: true } : {}),
    });
  }
}
