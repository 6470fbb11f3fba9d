/**
 * Latest-frame-wins scheduling: each source (camera) has one slot holding its newest frame. A
 * frame arriving while the slot is full replaces the stale one, which is counted as dropped, so
 * inference slower than the camera never builds a backlog and memory stays flat. Sources with a
 * waiting frame are served round-robin, so a fast camera cannot starve a slow one that shares
 * the model.
 *
 * A frame marked `keep` (a finite input, such as a few JPEGs piped in) is not replaced: the one
 * it would replace is held, and held frames are served first, in order, up to
 * {@linkcode HOLD_FRAMES} frames and {@linkcode HOLD_BYTES} bytes per source (beyond that the
 * oldest is dropped). The first frame of the source offered without `keep` drops what is held:
 * the source has said it is live.
 *
 * @module
 */
import type { Frame } from "./types.ts";

/** A frame to infer, with the frames of its source dropped since its previous one. */
export interface Scheduled {
  /** The newest frame of its source. */
  frame: Frame;
  /** Stale frames of this source replaced since the previous scheduled frame. */
  dropped: number;
}

interface Slot {
  frame?: Frame;
  held: Frame[];
  heldBytes: number;
  dropped: number;
}

/** The most frames held per source (see the module doc). */
export const HOLD_FRAMES = 1024;

/** The most bytes held per source (see the module doc). */
export const HOLD_BYTES = 32 << 20;

/**
 * The frames waiting for the model: one per source, and those held for frames marked `keep`.
 *
 * @example
 * ```ts
 * import { LatestFrameScheduler } from "./scheduler.ts";
 * const s = new LatestFrameScheduler();
 * s.offer({ source: "a", bytes: new Uint8Array(1), time: 1 });
 * s.offer({ source: "a", bytes: new Uint8Array(2), time: 2 }); // replaces the first
 * const next = await s.next(); // { frame: (time 2), dropped: 1 }
 * ```
 */
export class LatestFrameScheduler {
  readonly #slots = new Map<string, Slot>();
  readonly #order: string[] = [];
  #cursor = -1;
  #waiting = 0;
  #waiter?: PromiseWithResolvers<void>;
  #ended = false;
  #closed = false;
  /** Frames offered so far (all sources). */
  offered = 0;

  /** Whether frames are still taken (not closed or ended). */
  get accepting(): boolean {
    return !this.#closed && !this.#ended;
  }

  /** Frames waiting now (one per source, and the frames held for kept ones). */
  get waiting(): number {
    return this.#waiting;
  }

  /**
   * Puts a frame in its source's slot; returns how many stale frames it dropped (0 or more: a
   * frame without `keep` also drops the frames held for its source).
   */
  offer(frame: Frame): number {
    if (this.#closed || this.#ended) return 0;
    this.offered++;
    let slot = this.#slots.get(frame.source);
    if (!slot) {
      slot = { held: [], heldBytes: 0, dropped: 0 };
      this.#slots.set(frame.source, slot);
      this.#order.push(frame.source);
    }
    const before = slot.held.length + (slot.frame === undefined ? 0 : 1);
    let dropped = 0;
    if (slot.frame !== undefined && frame.keep) dropped += this.#hold(slot, slot.frame);
    else if (slot.frame !== undefined) dropped++;
    if (!frame.keep && slot.held.length > 0) {
      dropped += slot.held.length;
      slot.held = [];
      slot.heldBytes = 0;
    }
    slot.frame = frame;
    slot.dropped += dropped;
    this.#waiting += slot.held.length + 1 - before;
    this.#waiter?.resolve();
    return dropped;
  }

  /** Holds a frame a kept one replaces; returns how many held frames the bounds dropped. */
  #hold(slot: Slot, frame: Frame): number {
    slot.held.push(frame);
    slot.heldBytes += frame.bytes.length;
    let dropped = 0;
    while (slot.held.length > HOLD_FRAMES || slot.heldBytes > HOLD_BYTES) {
      slot.heldBytes -= slot.held.shift()!.bytes.length;
      dropped++;
    }
    return dropped;
  }

  /** The next source's frame in round-robin order; undefined once closed (or ended and empty). */
  async next(): Promise<Scheduled | undefined> {
    return await this.ready() ? this.take() : undefined;
  }

  /** Resolves true once a frame is waiting, false once closed (or ended with none waiting). */
  async ready(): Promise<boolean> {
    for (;;) {
      if (this.#closed) return false;
      if (this.#waiting > 0) return true;
      if (this.#ended) return false;
      this.#waiter = Promise.withResolvers<void>();
      await this.#waiter.promise;
      this.#waiter = undefined;
    }
  }

  /** The next source's frame in round-robin order, if any is waiting. */
  take(): Scheduled | undefined {
    return this.#closed ? undefined : this.#take();
  }

  #take(): Scheduled | undefined {
    const n = this.#order.length;
    for (let step = 1; step <= n; step++) {
      const at = (this.#cursor + step) % n;
      const slot = this.#slots.get(this.#order[at])!;
      if (slot.frame === undefined) continue;
      this.#cursor = at;
      let frame: Frame;
      if (slot.held.length > 0) {
        frame = slot.held.shift()!;
        slot.heldBytes -= frame.bytes.length;
      } else {
        frame = slot.frame;
        slot.frame = undefined;
      }
      const item = { frame, dropped: slot.dropped };
      slot.dropped = 0;
      this.#waiting--;
      return item;
    }
    return undefined;
  }

  /** No more frames will come: `next` gives the waiting ones, then undefined. */
  end(): void {
    this.#ended = true;
    this.#waiter?.resolve();
  }

  /** Stops now: waiting frames are discarded (their count is returned). */
  close(): number {
    const discarded = this.#waiting;
    this.#closed = true;
    for (const slot of this.#slots.values()) {
      slot.frame = undefined;
      slot.held = [];
      slot.heldBytes = 0;
    }
    this.#waiting = 0;
    this.#waiter?.resolve();
    return discarded;
  }
}
