/**
 * Inference of one scheduled frame for the ingest loop: the change check, the camera's model
 * (its head) and zone, state confirmation, collecting, and the event written to every sink.
 * Every camera has its own state, by name: its confirmed state and its collector.
 *
 * @module
 */
import type { ClassifyResult, MobileNet } from "../mobilenet.ts";
import { ImageDecodeError } from "../errors.ts";
import type { ResizeMode } from "../image/preprocess.ts";
import { errorMessage } from "../_util.ts";
import type { Clock } from "../clock.ts";
import { type StateChange, StateConfirmer } from "../head/confirm.ts";
import type { Camera } from "./camera.ts";
import { cameraName } from "./camera_name.ts";
import { changeBetween, thumbnail } from "./change.ts";
import { Collector } from "./collect.ts";
import { INGEST_RESIZE } from "./defaults.ts";
import { buildEvent, type IngestEvent } from "./event.ts";
import type { Logger, StatusBoard } from "./log.ts";
import type { Scheduled } from "./scheduler.ts";
import type { Sink } from "./sinks/sink.ts";
import { emptyStats, type IngestStats, type SourceStats } from "./stats.ts";
import type { Frame } from "./types.ts";

/** A camera ready to run: its settings, and the model answering for it (its head applied). */
export interface ReadyCamera extends Camera {
  /** The model, or its view with the camera's head. */
  model: MobileNet;
}

/** What inference takes of the ingest options. */
export interface InferenceSettings {
  sinks: Sink[];
  topK?: number;
  embed?: boolean;
  resize?: ResizeMode;
  minChange?: number;
  onEvent?: (event: IngestEvent) => void;
}

/** What the loop shares with inference. */
export interface InferenceContext {
  board: StatusBoard;
  stats: IngestStats;
  clock: Clock;
  log: Logger;
}

/** A camera's own state, by name. */
interface CameraState {
  confirmer?: StateConfirmer;
  collector?: Collector;
}

/** An answer that writes no event (unchanged, unknown, or not yet confirmed). */
const SILENT = Symbol("silent");

/** Infers frames, one at a time. */
export class FrameInference {
  readonly #o: InferenceSettings;
  readonly #ctx: InferenceContext;
  readonly #cameraOf = new Map<string, ReadyCamera>();
  readonly #states = new Map<string, CameraState>();
  readonly #thumbs = new Map<string, Float32Array>();

  /** Inference with the loop's settings and shared state. */
  constructor(settings: InferenceSettings, context: InferenceContext) {
    this.#o = settings;
    this.#ctx = context;
  }

  /** Notes which camera a frame source belongs to (its settings apply to its frames). */
  register(frameSource: string, camera: ReadyCamera): void {
    if (!this.#cameraOf.has(frameSource)) this.#cameraOf.set(frameSource, camera);
  }

  /** The counters of a frame source. */
  statsOf(source: string): SourceStats {
    return this.#ctx.stats.sources[source] ??= emptyStats();
  }

  /** Infers one scheduled frame; never throws (failures are logged by state). */
  async run({ frame, dropped }: Scheduled): Promise<void> {
    const camera = this.#cameraOf.get(frame.source)!;
    const stats = this.statsOf(frame.source);
    const start = this.#ctx.clock.now();
    try {
      const thumb = await this.#changed(frame, stats);
      if (thumb === SILENT) return;
      const t0 = performance.now();
      const result = await this.#classify(camera, frame.bytes);
      const totalMs = performance.now() - t0;
      if (thumb) this.#thumbs.set(frame.source, thumb);
      stats.inferred++;
      if (this.#ctx.board.get(frame.source, "frames") !== undefined) {
        this.#ctx.board.set(frame.source, "frames", "ok", "frames decode again");
      }
      const name = camera.name ?? cameraName(frame.source);
      const state = this.#stateOf(name, camera);
      await this.#collect(name, state, frame, result);
      const change = this.#confirm(state, result);
      if (change === SILENT) return;
      const event = buildEvent(frame, result, {
        camera: name,
        dropped,
        queueMs: start - frame.time,
        totalMs,
        embedding: this.#o.embed ? result.embedding : undefined,
        change,
      });
      stats.events++;
      await this.#write(event);
    } catch (error) {
      stats.bad++;
      this.#failed(frame, error);
    }
  }

  /** The frame's thumbnail, or {@linkcode SILENT} when it barely changed (none without minChange). */
  async #changed(frame: Frame, stats: SourceStats) {
    const minChange = this.#o.minChange ?? 0;
    if (minChange <= 0) return undefined;
    const thumb = await thumbnail(frame.bytes);
    const last = this.#thumbs.get(frame.source);
    if (last && changeBetween(last, thumb) < minChange) {
      stats.unchanged++;
      return SILENT;
    }
    return thumb;
  }

  /** Classifies with the camera's model (its head), zone and resize mode. */
  #classify(camera: ReadyCamera, bytes: Uint8Array, topK = this.#o.topK ?? 5) {
    return camera.model.classifyDetailed(bytes, {
      topK,
      resize: camera.head?.resize ?? this.#o.resize ?? INGEST_RESIZE,
      zone: camera.zone,
      embedding: this.#o.embed === true || camera.collect !== undefined,
    });
  }

  #stateOf(name: string, camera: ReadyCamera): CameraState {
    let state = this.#states.get(name);
    if (state) return state;
    state = {};
    if (camera.confirm !== undefined) state.confirmer = new StateConfirmer(camera.confirm);
    if (camera.collect) {
      state.collector = new Collector(name, camera.collect, {
        embed: async (bytes) => (await this.#classify(camera, bytes, 1)).embedding!,
        log: this.#ctx.log,
        clock: this.#ctx.clock,
      });
    }
    this.#states.set(name, state);
    return state;
  }

  /** Offers the frame to the camera's collector; trouble is logged by state, not thrown. */
  async #collect(name: string, state: CameraState, frame: Frame, result: ClassifyResult) {
    if (!state.collector || !result.embedding) return;
    try {
      await state.collector.offer(frame.bytes, result.embedding, frame.time);
      if (this.#ctx.board.get(name, "collect") !== undefined) {
        this.#ctx.board.set(name, "collect", "ok", "collecting again");
      }
    } catch (error) {
      const message = `cannot collect: ${errorMessage(error)}`;
      this.#ctx.board.set(name, "collect", `error:${message}`, message, "warn");
    }
  }

  /**
   * With `confirm`: the change this answer confirms, or {@linkcode SILENT} (an unknown answer
   * is no state: it neither confirms nor interrupts a run). Without: `undefined` (every frame).
   */
  #confirm(state: CameraState, result: ClassifyResult): StateChange | undefined | typeof SILENT {
    if (!state.confirmer) return undefined;
    if (result.unknown) return SILENT;
    return state.confirmer.push(result.predictions[0].label) ?? SILENT;
  }

  #failed(frame: Frame, error: unknown): void {
    const board = this.#ctx.board;
    if (!(error instanceof ImageDecodeError)) {
      const message = errorMessage(error);
      board.set(
        frame.source,
        "frames",
        `error:${message}`,
        `inference failed: ${message}`,
        "error",
      );
      return;
    }
    board.set(
      frame.source,
      "frames",
      `bad:${error.code}`,
      `bad frame (${frame.bytes.length} bytes): ImageDecodeError ${error.code}: ${error.message}`,
      "warn",
    );
  }

  async #write(event: IngestEvent): Promise<void> {
    for (const sink of this.#o.sinks) {
      try {
        await sink.write(event);
      } catch (error) {
        const message = errorMessage(error);
        this.#ctx.board.set(sink.name, "sink", `error:${message}`, message, "error");
      }
    }
    this.#o.onEvent?.(event);
  }
}
