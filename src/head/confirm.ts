/**
 * Confirming a state: a camera's head answers every frame, and one odd frame (a bird across
 * the garage door) must not flip the state. A change is confirmed only after `count` identical
 * answers in a row, as Frigate does (3 there). Ingest keeps one per camera.
 *
 * @module
 */

/** A confirmed change of state. */
export interface StateChange {
  /** The new state. */
  state: string;
  /** The state before, `undefined` for the first one confirmed. */
  previous: string | undefined;
}

/**
 * Tracks one camera's state from its answers.
 *
 * @example
 * ```ts
 * import { StateConfirmer } from "./confirm.ts";
 *
 * const garage = new StateConfirmer(3);
 * for (const answer of ["closed", "closed", "closed", "open", "closed", "open", "open", "open"]) {
 *   const change = garage.push(answer);
 *   if (change) console.log(change); // {state: "closed", previous: undefined}, then
 * }                                   // {state: "open", previous: "closed"}
 * ```
 */
export class StateConfirmer {
  readonly #count: number;
  #state: string | undefined;
  #candidate: string | undefined;
  #run = 0;

  /**
   * `count`: identical answers in a row that confirm a change (1 confirms every change at once).
   *
   * @throws {RangeError} unless a positive integer.
   */
  constructor(count: number) {
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(`confirm count must be a positive integer, got ${count}`);
    }
    this.#count = count;
  }

  /** The confirmed state, `undefined` until one is. */
  get state(): string | undefined {
    return this.#state;
  }

  /** Feeds one answer; returns the change when it confirms a new state, else `undefined`. */
  push(answer: string): StateChange | undefined {
    if (answer === this.#candidate) this.#run++;
    else {
      this.#candidate = answer;
      this.#run = 1;
    }
    if (this.#run < this.#count || answer === this.#state) return undefined;
    const previous = this.#state;
    this.#state = answer;
    return { state: answer, previous };
  }
}
