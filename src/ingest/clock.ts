/**
 * Ingest's time, sleeps and randomness: the module's one {@linkcode Clock} (`src/clock.ts`),
 * re-exported where the ingest entry has always found it.
 *
 * @module
 */
export { type Clock, sleep, systemClock } from "../clock.ts";
