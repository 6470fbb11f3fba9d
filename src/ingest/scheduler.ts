/**
 * Latest-frame-wins scheduling: each source (camera) has one slot holding its newest frame. A
 * frame arriving while the slot is full replaces the stale one, which is counted as dropped, so
 * inference slower than the camera never builds a backlog and memory stays flat. Sources with a
 * waiting frame are served round-robin, so a fast camera cannot starve a slow one that shares
 * the model.
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
  dropped: number;
}

/**
 * The frames waiting for the model, one per source.
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

  /** Frames waiting now (at most one per source). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Puts a frame in its source's slot; returns true when it replaced (dropped) a stale one. */
  offer(frame: Frame): boolean {
    if (this.#closed || this.#ended) return false;
    this.offered++;
    let slot = this.#slots.get(frame.source);
    if (!slot) {
      slot = { dropped: 0 };
      this.#slots.set(frame.source, slot);
      this.#order.push(frame.source);
    }
    const replaced = slot.frame !== undefined;
    if (replaced) slot.dropped++;
    else this.#waiting++;
    slot.frame = frame;
    this.#waiter?.resolve();
    return replaced;
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
      const item = { frame: slot.frame, dropped: slot.dropped };
      slot.frame = undefined;
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
    for (const slot of this.#slots.values()) slot.frame = undefined;
    this.#waiting = 0;
    this.#waiter?.resolve();
    return discarded;
  }
}
