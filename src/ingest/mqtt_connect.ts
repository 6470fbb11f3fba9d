/**
 * MQTT broker addresses and connections, shared by the MQTT source and the MQTT sink.
 * Addresses are written `mqtt://[user:pass@]host:port/<topic>`; the topic (or topic filter,
 * which may hold `+` and `#`) is everything after the first slash, taken literally.
 * Reconnecting is ours (exponential backoff), not the client's: it connects with
 * `reconnectPeriod: 0`.
 *
 * @module
 */
import type { MqttClient as Client } from "npm:mqtt@5.16.0";
import { IngestSourceError } from "./errors.ts";

/** The MQTT client type (npm:mqtt). */
export type MqttClient = Client;

/**
 * npm:mqtt, loaded on first use: importing the library (or running a camera source) never loads
 * the MQTT client, its stream polyfills, or their environment reads.
 */
function loadMqtt() {
  return import("npm:mqtt@5.16.0").then((module) => module.default);
}

/** A parsed MQTT address. */
export interface MqttAddress {
  /** `mqtt://host:port` (or mqtts/ws/wss), without userinfo. */
  broker: string;
  /** The topic or topic filter after the first slash. */
  topic: string;
  /** User name, if any. */
  username?: string;
  /** Password, if any. */
  password?: string;
}

/**
 * Parses `mqtt://[user:pass@]host[:port]/<topic>`.
 *
 * @throws {TypeError} for another scheme, a missing host or an empty topic.
 */
export function parseMqttUrl(text: string): MqttAddress {
  const match = /^(mqtts?|wss?):\/\/(?:([^@/]*)@)?([^/]+)\/(.*)$/i.exec(text);
  if (!match || !match[3]) {
    throw new TypeError("an MQTT address is mqtt://[user:pass@]host:port/<topic>");
  }
  const [, scheme, userinfo, host, topic] = match;
  if (!topic) throw new TypeError("the MQTT address names no topic after host:port/");
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const at = userinfo.indexOf(":");
    username = decodeURIComponent(at < 0 ? userinfo : userinfo.slice(0, at));
    password = at < 0 ? undefined : decodeURIComponent(userinfo.slice(at + 1));
  }
  return { broker: `${scheme.toLowerCase()}://${host}`, topic, username, password };
}

/** `$share/<group>/<filter>`: a shared subscription whose messages the group's members split. */
export function sharedFilter(filter: string, group: string | undefined): string {
  if (group === undefined) return filter;
  if (!/^[^/+#]+$/.test(group)) {
    throw new TypeError(`--group must be a name without /, + or #, got ${JSON.stringify(group)}`);
  }
  return `$share/${group}/${filter}`;
}

/**
 * Connects, resolving with the connected client.
 *
 * @throws {IngestSourceError} `TIMEOUT` or `NETWORK`; the client is ended on failure.
 */
export async function connectMqtt(
  address: MqttAddress,
  options: {
    connectTimeoutMs: number;
    signal: AbortSignal;
    clientId?: string;
    /** The last will: what the broker publishes when the connection dies uncleanly. */
    will?: { topic: string; payload: string; qos: 1; retain: boolean };
  },
): Promise<MqttClient> {
  const mqtt = await loadMqtt();
  if (options.signal.aborted) throw new IngestSourceError("ENDED", "stopped");
  const { promise, resolve, reject } = Promise.withResolvers<MqttClient>();
  const client = mqtt.connect(address.broker, {
    username: address.username,
    password: address.password,
    reconnectPeriod: 0,
    connectTimeout: options.connectTimeoutMs,
    clean: true,
    clientId: options.clientId ?? `mobilenet-edge-${crypto.randomUUID().slice(0, 8)}`,
    ...(options.will ? { will: options.will } : {}),
  });
  const fail = (error: IngestSourceError) => {
    cleanup();
    client.end(true);
    reject(error);
  };
  const onError = (error: Error) =>
    fail(new IngestSourceError("NETWORK", `MQTT: ${error.message}`, { cause: error }));
  const onClose = () => fail(new IngestSourceError("NETWORK", "MQTT: connection closed"));
  const onAbort = () => fail(new IngestSourceError("ENDED", "stopped"));
  const timer = setTimeout(
    () =>
      fail(new IngestSourceError("TIMEOUT", `MQTT: no CONNACK in ${options.connectTimeoutMs} ms`)),
    options.connectTimeoutMs,
  );
  const cleanup = () => {
    clearTimeout(timer);
    client.off("error", onError);
    client.off("close", onClose);
    options.signal.removeEventListener("abort", onAbort);
  };
  client.on("error", onError);
  client.on("close", onClose);
  client.once("connect", () => {
    cleanup();
    resolve(client);
  });
  options.signal.addEventListener("abort", onAbort, { once: true });
  return promise;
}

/** Ends a client, waiting for its socket to close. */
export async function endMqtt(client: MqttClient, force = false): Promise<void> {
  await new Promise<void>((resolve) => client.end(force, {}, () => resolve()));
}
