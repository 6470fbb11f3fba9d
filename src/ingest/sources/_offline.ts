/**
 * What a source does when its connection fails: log the new state (once per change, through
 * `context.status`) and wait out the next backoff delay. Shared by the HTTP and MQTT sources.
 *
 * @module
 */
import { errorMessage } from "../../_util.ts";
import type { Backoff } from "../../clock.ts";
import { errorCode } from "../errors.ts";
import type { SourceContext } from "../types.ts";

/** Logs `error` as the source going offline and sleeps for the next backoff delay. */
export async function waitAfterFailure(
  context: SourceContext,
  backoff: Backoff,
  error: unknown,
): Promise<void> {
  const delay = backoff.next();
  context.status(
    "connection",
    `offline:${errorCode(error)}:${(error as { status?: number }).status ?? ""}`,
    `offline: ${errorMessage(error)}; retrying (backoff from ${delay} ms)`,
    "warn",
  );
  await context.clock.sleep(delay, context.signal);
}
