/**
 * The MQTT sink (`--mqtt-out mqtt://host:port/<topic>`): each event published as JSON, QoS 1,
 * retained or not. `{camera}` in the topic is replaced by the camera's id (see `cameraId`),
 * giving a topic per camera. With Home Assistant discovery, each camera gets a retained sensor
 * config (see `discoveryMessage`) the first time it is seen.
 *
 * Availability: `online` is published (retained) on an availability topic (see
 * {@linkcode availabilityTopic}) each time the sink connects, `offline` when it closes, and the
 * broker publishes `offline` itself (the connection's last will) when ingest dies or its
 * connection is lost; a lost connection is remade at once (with backoff) to say `online` again.
 * Publishing goes through a bounded retry queue; the connection is made (and remade after a
 * failure, with backoff) by the queue's deliveries.
 *
 * @module
 */
import { withTimeout } from "../../_util.ts";
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
import { cameraId } from "../camera_name.ts";
import { availabilityTopic, discoveryMessage } from "./ha_discovery.ts";

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
  /** Where `online` and `offline` are published (retained). */
  readonly availability: string;
  readonly #address: MqttAddress;
  readonly #options: MqttSinkOptions;
  readonly #queue: RetryQueue<Message>;
  readonly #announced = new Set<string>();
  #client?: MqttClient;
  #closing = false;

  /** Creates the sink. @throws {TypeError} for a malformed address. */
  constructor(url: string, options: MqttSinkOptions = {}) {
    this.#address = parseMqttUrl(url);
    this.name = `${this.#address.broker}/${this.#address.topic}`;
    this.availability = availabilityTopic(this.#address.topic);
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

  #birth(): Message {
    return { topic: this.availability, payload: "online", retain: true };
  }

  async #publish(message: Message, signal: AbortSignal): Promise<void> {
    if (!this.#client || !this.#client.connected) {
      const old = this.#client;
      this.#client = undefined;
      if (old) await endMqtt(old, true);
      const client = await connectMqtt(this.#address, {
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 10_000,
        signal,
        will: { topic: this.availability, payload: "offline", qos: 1, retain: true },
      });
      client.on("error", () => {}); // a lost connection shows as a failed publish
      client.on("close", () => {
        // lost, not closed by us: connect again now, so that availability says online again
        if (this.#client === client && !this.#closing) this.#queue.push(this.#birth());
      });
      this.#client = client;
      if (message.topic !== this.availability) await this.#send(client, this.#birth());
    }
    await this.#send(this.#client, message);
  }

  async #send(client: MqttClient, message: Message): Promise<void> {
    await client.publishAsync(message.topic, message.payload, { qos: 1, retain: message.retain });
  }

  /** Queues an event (and, the first time a camera is seen, its discovery config). */
  write(event: IngestEvent): void {
    const id = cameraId(event.camera);
    const topic = this.#address.topic.replaceAll("{camera}", id);
    const prefix = this.#options.discoveryPrefix;
    if (prefix && !this.#announced.has(id)) {
      this.#announced.add(id);
      this.#queue.push({
        ...discoveryMessage(prefix, event, topic, this.availability),
        retain: true,
      });
    }
    this.#queue.push({
      topic,
      payload: JSON.stringify(event),
      retain: this.#options.retain ?? false,
    });
  }

  /**
   * Publishes what is queued within `timeoutMs`, then `offline` (a clean disconnect sends no
   * last will), then disconnects.
   */
  async close(timeoutMs?: number): Promise<void> {
    this.#closing = true;
    await this.#queue.close(timeoutMs);
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    if (client.connected) {
      await withTimeout(
        this.#send(client, { topic: this.availability, payload: "offline", retain: true }),
        Math.max(1, timeoutMs ?? 5000),
        () => new Error("offline not published in time"),
      ).catch(() => {});
    }
    await endMqtt(client, false);
  }
}
