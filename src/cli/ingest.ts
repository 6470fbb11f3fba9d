/**
 * `deno task ingest <source...> [options]`: classifies camera frames as they come and prints
 * one JSON event per inferred frame on stdout (and/or POSTs it, publishes it over MQTT). Logs go
 * to stderr, credentials masked. SIGINT/SIGTERM stop it cleanly (sinks flushed).
 *
 * @module
 */
import { errorMessage } from "../_util.ts";
import { parseArgs } from "./parse_args.ts";
import { loadMobileNet } from "../load.ts";
import type { ResizeMode } from "../image/preprocess.ts";
import { checkTopForModel, resizeFlag, threadsFlag, topFlag } from "./flag_values.ts";
import { runIngest } from "../ingest/ingest.ts";
import { INGEST_RESIZE } from "../ingest/defaults.ts";
import { createSource } from "../ingest/sources/create.ts";
import { Redactor } from "../ingest/redact.ts";
import { formatLogRecord, type Logger, redactingLogger } from "../ingest/log.ts";
import { JsonLinesSink } from "../ingest/sinks/stdout.ts";
import { WebhookSink } from "../ingest/sinks/webhook.ts";
import { MqttSink } from "../ingest/sinks/mqtt.ts";
import type { Sink } from "../ingest/sinks/sink.ts";
import type { Source } from "../ingest/types.ts";
import { TOKEN_ENV, USER_ENV } from "../ingest/auth/credentials.ts";
import { userModel, userPath } from "./paths.ts";

const USAGE = `usage: deno task ingest <source...> [options]

Classifies camera frames and prints one JSON event per inferred frame.

sources:
  http(s)://[user:pass@]host/path   snapshot (polled --every) or MJPEG stream (by Content-Type)
  -                                 JPEGs back to back on stdin (rpicam-vid --codec mjpeg -o -)
  DIR                               new or replaced .jpg/.png files in a folder
  mqtt://[user:pass@]host:port/FILTER   image payloads on an MQTT topic filter

options:
  --every DUR            snapshot interval (default 2s; 500ms, 2s, 1m)
  --user USER:PASS       camera credentials (Basic or Digest, as the camera asks)
                         (or the URL's userinfo, or $${USER_ENV})
  --token TOKEN          Bearer token, e.g. Home Assistant (or $${TOKEN_ENV})
  --group NAME           share MQTT subscriptions: $share/NAME/FILTER
  --min-change X         skip frames differing less than X (0..1) from the last inferred
  --top N                labels per event (default 5)
  --embed                add the pooled features ("embedding") to each event
  --model M              bundled model (0.75_224 default, 0.25_224), weights dir, or URL
  --threads N|auto       threads per inference (default auto)
  --small-board          512 MB boards: 0.25_224, 1 thread, one shard at a time (explicit
                         --model/--threads win; also MOBILENET_EDGE_SMALL_BOARD=1)
  --resize MODE          stretch (default for cameras) or center-crop
  --webhook URL          POST each event as JSON (retried, bounded queue)
  --mqtt-out URL         publish events: mqtt://host:port/TOPIC ({camera} = camera id)
  --mqtt-retain          publish retained
  --ha-discovery PREFIX  Home Assistant discovery configs under PREFIX (e.g. homeassistant)
  --connect-timeout DUR  default 10s
  --read-timeout DUR     default 10s
  --backoff-min DUR      first reconnect delay (default 1s)
  --backoff-max DUR      reconnect delay cap (default 60s)
  --settle DUR           watched folders: how long a file must stay unchanged (default 500ms)
  --quiet                no events on stdout (with --webhook or --mqtt-out)
  -h, --help             this text`;

/**
 * Milliseconds of a duration: `500ms`, `2s`, `1.5m`, `1h`, or plain seconds.
 *
 * @throws {RangeError} for anything else or a negative value.
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new RangeError(`${flag} must be a duration like 500ms, 2s or 1m, got ${text}`);
  const scale = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"]!;
  return Number(match[1]) * scale;
}

function stderrLogger(): Logger {
  const enc = new TextEncoder();
  return (record) => Deno.stderr.writeSync(enc.encode(formatLogRecord(record) + "\n"));
}

interface Setup {
  sources: Source[];
  sinks: Sink[];
  log: Logger;
  topK: number;
  minChange: number;
  resize: ResizeMode;
  threads?: number | "auto";
}

function setup(flags: ReturnType<typeof parseArgs>): Setup {
  const redactor = new Redactor();
  const log = redactingLogger(stderrLogger(), redactor);
  const dur = (name: string) =>
    flags[name] === undefined ? undefined : parseDuration(String(flags[name]), `--${name}`);
  const min = dur("backoff-min") ?? 1000;
  const max = dur("backoff-max") ?? 60_000;
  redactor.add(flags.token as string | undefined);
  if (typeof flags.user === "string") redactor.add(flags.user.slice(flags.user.indexOf(":") + 1));
  const sources = flags._.map((spec) =>
    createSource(userPath(spec), {
      user: flags.user as string | undefined,
      token: flags.token as string | undefined,
      everyMs: dur("every"),
      connectTimeoutMs: dur("connect-timeout"),
      readTimeoutMs: dur("read-timeout"),
      settleMs: dur("settle"),
      backoff: { initialMs: min, maxMs: Math.max(min, max) },
      group: flags.group as string | undefined,
      redactor,
    })
  );
  const sinks: Sink[] = [];
  if (!flags.quiet) sinks.push(new JsonLinesSink());
  if (flags.webhook) sinks.push(new WebhookSink(String(flags.webhook), { log }));
  if (flags["mqtt-out"]) {
    const sink = new MqttSink(String(flags["mqtt-out"]), {
      retain: Boolean(flags["mqtt-retain"]),
      discoveryPrefix: flags["ha-discovery"] as string | undefined,
      log,
    });
    redactor.add(sink.password);
    sinks.push(sink);
  }
  const topK = topFlag(flags.top);
  const minChange = Number(flags["min-change"] ?? 0);
  if (!(minChange >= 0 && minChange <= 1)) throw new RangeError(`--min-change must be in [0, 1]`);
  const threads = threadsFlag(flags.threads);
  const resize = resizeFlag(flags.resize) ?? INGEST_RESIZE;
  return { sources, sinks, log, topK, minChange, resize, threads };
}

/** Runs the command with `args` until stopped; returns the exit code (0, or 2 for bad usage). */
export async function main(args: string[]): Promise<number> {
  let flags;
  let s: Setup;
  try {
    flags = parseArgs(args, {
      string: [
        "every",
        "user",
        "token",
        "group",
        "min-change",
        "top",
        "model",
        "threads",
        "resize",
        "webhook",
        "mqtt-out",
        "ha-discovery",
        "connect-timeout",
        "read-timeout",
        "backoff-min",
        "backoff-max",
        "settle",
      ],
      boolean: ["embed", "mqtt-retain", "quiet", "help", "small-board"],
      alias: { h: "help", k: "top", m: "model" },
    });
    if (flags.help) {
      console.log(USAGE);
      return 0;
    }
    if (flags._.length === 0) throw new TypeError("name at least one source");
    s = setup(flags);
  } catch (error) {
    console.error(`ingest: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  let model;
  try {
    model = await loadMobileNet({
      preset: flags["small-board"] ? "small-board" : undefined,
      model: userModel(flags.model as string | undefined),
      threads: s.threads,
      resize: s.resize,
      headless: false,
    });
    checkTopForModel(s.topK, model.architecture.config.classes);
  } catch (error) {
    await model?.dispose();
    console.error(`ingest: ${errorMessage(error)}`);
    return 2;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  s.log({
    time: Date.now(),
    level: "info",
    message: `ingesting from ${s.sources.map((x) => x.name).join(", ")}`,
  });
  try {
    const stats = await runIngest({
      model,
      sources: s.sources,
      sinks: s.sinks,
      topK: s.topK,
      embed: Boolean(flags.embed),
      resize: s.resize,
      minChange: s.minChange,
      log: s.log,
      signal: controller.signal,
    });
    s.log({ time: Date.now(), level: "info", message: `stopped: ${JSON.stringify(stats)}` });
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    await model.dispose();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
