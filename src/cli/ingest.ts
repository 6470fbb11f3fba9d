/**
 * `deno task ingest <source...> [options]`: classifies camera frames as they come and prints
 * one JSON event per inferred frame on stdout (and/or POSTs it, publishes it over MQTT). Logs go
 * to stderr, credentials masked. SIGINT/SIGTERM stop it cleanly (sinks flushed), with a summary
 * per source. Each source may carry its own settings (`SOURCE#name=...#head=...`): see
 * `ingest_cameras.ts`.
 *
 * @module
 */
import { errorMessage } from "../_util.ts";
import { parseArgs } from "./parse_args.ts";
import { loadMobileNet } from "../load.ts";
import type { MobileNet } from "../mobilenet.ts";
import type { ResizeMode } from "../image/preprocess.ts";
import {
  checkTopForModel,
  precisionFlag,
  resizeFlag,
  threadsFlag,
  topFlag,
  zoneFlag,
} from "./flag_values.ts";
import {
  type CameraSpec,
  cameraSpecs,
  type CollectLimits,
  confirmFlag,
  loadHeads,
  readyCameras,
} from "./ingest_cameras.ts";
import { runIngest } from "../ingest/ingest.ts";
import type { Camera } from "../ingest/camera.ts";
import { INGEST_RESIZE } from "../ingest/defaults.ts";
import { summaryLines } from "../ingest/stats.ts";
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
import { parseOrExit } from "./command.ts";

const USAGE = `usage: deno task ingest <source...> [options]

Classifies camera frames and prints one JSON event per inferred frame.

sources:
  http(s)://[user:pass@]host/path   snapshot (polled --every) or MJPEG stream (by Content-Type)
  -                                 JPEGs back to back on stdin (rpicam-vid --codec mjpeg -o -;
                                    a finite input, cat a.jpg b.jpg |, has every image classified)
  DIR                               new or replaced images in a folder (.jpg .png .gif .tif)
  mqtt://[user:pass@]host:port/FILTER   image payloads on an MQTT topic filter
  Each source may end in its own settings: SOURCE#name=NAME#head=HEAD#zone=x,y,w,h#confirm=N
  #collect=DIR (they win over the flags below).

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
  --precision P          float32 (default) or int8 (the 1x1 layers and the classifier in int8;
                         also MOBILENET_EDGE_PRECISION)
  --small-board          512 MB boards: 0.25_224, 1 thread, one shard at a time (explicit
                         --model/--threads win; also MOBILENET_EDGE_SMALL_BOARD=1)
  --resize MODE          stretch (default for cameras) or center-crop (a head's own mode wins)
  --webhook URL          POST each event as JSON (retried, bounded queue)
  --mqtt-out URL         publish events: mqtt://host:port/TOPIC ({camera} = camera id), and
                         online/offline on TOPIC-before-{camera}/available
  --mqtt-retain          publish retained
  --ha-discovery PREFIX  Home Assistant discovery configs under PREFIX (e.g. homeassistant)
  --connect-timeout DUR  default 10s
  --read-timeout DUR     default 10s
  --backoff-min DUR      first reconnect delay (default 1s)
  --backoff-max DUR      reconnect delay cap (default 60s)
  --settle DUR           watched folders: how long a file must stay unchanged (default 500ms)
  --quiet                no events on stdout (with --webhook or --mqtt-out)
  -h, --help             this text

cameras and your own classes (every camera; SOURCE#... for one):
  --name NAME            the camera's name in events, topics and Home Assistant (one source)
  --head HEAD            answer in a head's classes (deno task teach), "unknown" under its
                         threshold; without --model, the bundled model it was taught on
  --zone x,y,w,h         classify only this part of each frame (fractions; default: the head's)
  --confirm N            an event only when the answer changes, after N identical answers in a
                         row ("state", "previous"); "unknown" is no state: it neither confirms
                         nor interrupts a run
  --collect DIR          save the most distinct frames into DIR/_unsorted/; label them by moving
                         them into DIR/LABEL/, then: deno task teach DIR --out HEAD
  --collect-max N        frames DIR/_unsorted/ may hold (default 200)
  --collect-max-mb MB    megabytes DIR/_unsorted/ may hold (default 100)
  --collect-distance D   how unlike every saved frame a frame must be (cosine, default 0.1)`;

/** The parsed flags. */
type Args = ReturnType<typeof parseArgs>;

/** The flags, for `parseArgs`. */
const FLAGS = {
  string: [
    ...[
      "every",
      "user",
      "token",
      "group",
      "min-change",
      "top",
      "model",
      "threads",
      "resize",
      "precision",
    ],
    ...["webhook", "mqtt-out", "ha-discovery", "connect-timeout", "read-timeout"],
    ...["backoff-min", "backoff-max", "settle", "name", "head", "zone", "confirm", "collect"],
    ...["collect-max", "collect-max-mb", "collect-distance"],
  ],
  boolean: ["embed", "mqtt-retain", "quiet", "help", "small-board"],
  alias: { h: "help", k: "top", m: "model" },
};

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

/** What the command line asks for, checked before anything is opened or loaded. */
interface Command {
  flags: Args;
  cameras: CameraSpec[];
  topK: number;
  minChange: number;
  resize: ResizeMode;
  threads?: number | "auto";
  precision?: "float32" | "int8";
  collect: CollectLimits;
}

/** A positive number flag, or undefined. @throws {RangeError} */
function positive(flags: Args, name: string): number | undefined {
  if (flags[name] === undefined) return undefined;
  const value = Number(flags[name]);
  if (!(value > 0)) throw new RangeError(`--${name} must be a number over 0, got ${flags[name]}`);
  return value;
}

/**
 * `parseArgs` with stdin's own settings (`-#name=picam`) taken as the source they are, not as
 * a flag.
 */
function parseFlags(args: string[]): Args {
  const own = (arg: string) => /^-#[a-z]/.test(arg);
  const flags = parseArgs(args.map((arg, i) => own(arg) ? `\0${i}` : arg), FLAGS);
  flags._ = flags._.map((arg) => arg.startsWith("\0") ? args[Number(arg.slice(1))] : arg);
  return flags;
}

/** Parses and checks the arguments. @throws {TypeError} {RangeError} naming the flag. */
function parseCommand(args: string[]): Command | "help" {
  const flags = parseFlags(args);
  if (flags.help) return "help";
  if (flags._.length === 0) throw new TypeError("name at least one source");
  const minChange = Number(flags["min-change"] ?? 0);
  if (!(minChange >= 0 && minChange <= 1)) throw new RangeError(`--min-change must be in [0, 1]`);
  const maxMb = positive(flags, "collect-max-mb");
  const distance = flags["collect-distance"] === undefined
    ? undefined
    : Number(flags["collect-distance"]);
  if (distance !== undefined && !(distance >= 0 && distance <= 2)) {
    throw new RangeError(`--collect-distance must be in [0, 2], got ${flags["collect-distance"]}`);
  }
  return {
    flags,
    cameras: cameraSpecs(flags._, {
      name: flags.name as string | undefined,
      head: flags.head as string | undefined,
      zone: zoneFlag(flags.zone),
      confirm: confirmFlag(flags.confirm),
      collect: flags.collect as string | undefined,
    }),
    topK: topFlag(flags.top),
    minChange,
    resize: resizeFlag(flags.resize) ?? INGEST_RESIZE,
    threads: threadsFlag(flags.threads),
    precision: precisionFlag(flags.precision),
    collect: {
      maxFrames: confirmFlag(flags["collect-max"], "--collect-max"),
      maxBytes: maxMb === undefined ? undefined : Math.round(maxMb * 2 ** 20),
      minDistance: distance,
    },
  };
}

function stderrLogger(): Logger {
  const enc = new TextEncoder();
  return (record) => Deno.stderr.writeSync(enc.encode(formatLogRecord(record) + "\n"));
}

/** The sources, the sinks and the log of a command (nothing is connected yet). */
interface Io {
  sources: Source[];
  sinks: Sink[];
  log: Logger;
}

/** Makes the sources and sinks. @throws {TypeError} {RangeError} for a malformed one. */
function openIo(command: Command): Io {
  const flags = command.flags;
  const redactor = new Redactor();
  const log = redactingLogger(stderrLogger(), redactor);
  const dur = (name: string) =>
    flags[name] === undefined ? undefined : parseDuration(String(flags[name]), `--${name}`);
  const min = dur("backoff-min") ?? 1000;
  const max = dur("backoff-max") ?? 60_000;
  redactor.add(flags.token as string | undefined);
  if (typeof flags.user === "string") redactor.add(flags.user.slice(flags.user.indexOf(":") + 1));
  const sources = command.cameras.map(({ source }) =>
    createSource(userPath(source), {
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
  return { sources, sinks: openSinks(flags, redactor, log), log };
}

function openSinks(flags: Args, redactor: Redactor, log: Logger): Sink[] {
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
  return sinks;
}

/**
 * Loads the heads and the model (without `--model`, the one the heads were taught on), checks
 * `--top` and each camera's head against it, and creates the collect folders.
 *
 * @throws {Error} with the one line to print; the model is disposed.
 */
async function start(command: Command, io: Io): Promise<{ model: MobileNet; cameras: Camera[] }> {
  const flags = command.flags;
  const heads = await loadHeads(command.cameras);
  const model = await loadMobileNet({
    preset: flags["small-board"] ? "small-board" : undefined,
    model: userModel(flags.model as string | undefined) ?? heads.model,
    threads: command.threads,
    precision: command.precision,
    resize: command.resize,
    headless: false,
  });
  try {
    checkTopForModel(command.topK, model.architecture.config.classes);
    const cameras = await readyCameras(command.cameras, io.sources, {
      model,
      heads: heads.heads,
      collect: command.collect,
    });
    return { model, cameras };
  } catch (error) {
    await model.dispose();
    throw error;
  }
}

/** Runs until SIGINT/SIGTERM (or every source ended); logs the summary; disposes the model. */
async function run(command: Command, io: Io, model: MobileNet, cameras: Camera[]) {
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  const info = (message: string) => io.log({ time: Date.now(), level: "info", message });
  info(`ingesting from ${io.sources.map((x) => x.name).join(", ")}`);
  try {
    const stats = await runIngest({
      model,
      sources: cameras,
      sinks: io.sinks,
      topK: command.topK,
      embed: Boolean(command.flags.embed),
      resize: command.resize,
      minChange: command.minChange,
      log: io.log,
      signal: controller.signal,
    });
    info("stopped");
    for (const line of summaryLines(stats)) info(`  ${line}`);
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    await model.dispose();
  }
}

/**
 * Runs the command with `args` until stopped; returns the exit code: 0, or 2 for bad usage, a
 * model or head that cannot load, or a head taught on another model (one line on stderr).
 */
export async function main(args: string[]): Promise<number> {
  const command = parseOrExit("ingest", args, parseCommand, USAGE);
  if (typeof command === "number") return command;
  let io: Io;
  try {
    io = openIo(command);
  } catch (error) {
    console.error(`ingest: ${errorMessage(error)}\n\n${USAGE}`);
    return 2;
  }
  let started;
  try {
    started = await start(command, io);
  } catch (error) {
    console.error(`ingest: ${errorMessage(error)}`);
    return 2;
  }
  await run(command, io, started.model, started.cameras);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
