/**
 * Reconnect and retry delays: the module's one {@linkcode Backoff} (`src/clock.ts`),
 * re-exported where the ingest entry has always found it.
 *
 * @module
 */
export { Backoff, type BackoffOptions } from "../clock.ts";
