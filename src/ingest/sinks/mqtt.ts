/**
 * The MQTT sink (`--mqtt-out mqtt://host:port/<topic>`): each event published as JSON, QoS 1,
 * retained or not. `{camera}` in the topic is replaced by the camera's id (see
 * {@linkcode cameraId}), giving a topic per camera. With Home Assistant discovery, each camera
 * gets a retained sensor config (state: the top label; attributes: the whole event) the first
 * time it is seen. Publishing goes through a bounded retry queue; the connection is made (and
 * remade after a failure, with backoff) by the queue's deliveries.
 *
 * @module
 */
import type { IngestEvent } from "../event.ts";
import {
  connectMqtt,
  endMqtt,
  type MqttAddress,
  type MqttClient,
  parseMqttUrl,
} from "../mqtt_connect.ts";
import { RetryQueue, type RetryQueueOptions } from "./retry_queue.ts";
import type { Sink } from "./sink.ts";
import { cameraId, discoveryMessage } from "./ha_discovery.ts";

/** Options of {@linkcode MqttSink}. */
export interface MqttSinkOptions extends Omit<RetryQueueOptions, "source" | "failurePrefix"> {
  /** Publish retained. @default {false} */
  retain?: boolean;
  /** Home Assistant discovery prefix (e.g. "homeassistant"); none when absent. */
  discoveryPrefix?: string;
  /** Time allowed to connect. @default {10000} */
  connectTimeoutMs?: number;
}

interface Message {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Publishes events to an MQTT broker. */
export class MqttSink implements Sink {
  /** The broker and topic as shown (no credentials). */
  readonly name: string;
  readonly #address: MqttAddress;
  readonly #options: MqttSinkOptions;
  readonly #queue: RetryQueue<Message>;
  readonly #announced = new Set<string>();
  #client?: MqttClient;

  /** Creates the sink. @throws {TypeError} for a malformed address. */
  constructor(url: string, options: MqttSinkOptions = {}) {
    this.#address = parseMqttUrl(url);
    this.name = `${this.#address.broker}/${this.#address.topic}`;
    this.#options = options;
    this.#queue = new RetryQueue((m, signal) => this.#publish(m, signal), {
      ...options,
      source: this.name,
      failurePrefix: "publish failed: ",
    });
  }

  /** The broker's password, for redaction. */
  get password(): string | undefined {
    return this.#address.password;
  }

  /** Events dropped because the queue was full. */
  get dropped(): number {
    return this.#queue.dropped;
  }

  async #publish(message: Message, signal: AbortSignal): Promise<void> {
    if (!this.#client || !this.#client.connected) {
      const old = this.#client;
      this.#client = undefined;
      if (old) await endMqtt(old, true);
      const client = await connectMqtt(this.#address, {
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 10_000,
        signal,
      });
      client.on("error", () => {}); // a lost connection shows as a failed publish
      this.#client = client;
    }
    await this.#client.publishAsync(message.topic, message.payload, {
      qos: 1,
      retain: message.retain,
    });
  }

  /** Queues an event (and, the first time a camera is seen, its discovery config). */
  write(event: IngestEvent): void {
    const id = cameraId(event.source);
    const topic = this.#address.topic.replaceAll("{camera}", id);
    const prefix = this.#options.discoveryPrefix;
    if (prefix && !this.#announced.has(id)) {
      this.#announced.add(id);
      this.#queue.push({ ...discoveryMessage(prefix, id, event.source, topic), retain: true });
    }
    this.#queue.push({
      topic,
      payload: JSON.stringify(event),
      retain: this.#options.retain ?? false,
    });
  }

  /** Publishes what is queued within `timeoutMs`, then disconnects. */
  async close(timeoutMs?: number): Promise<void> {
    await this.#queue.close(timeoutMs);
    const client = this.#client;
    this.#client = undefined;
    if (client) await endMqtt(client, false);
  }
}
