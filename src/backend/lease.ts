/**
 * Shared use of the one WASM backend by several models. Each model takes a lease when its load
 * starts and gives it back when it is disposed; when the last lease goes and no tensor is left
 * on the backend, the backend shuts down, so its workers end and a process that created and
 * disposed models keeps no workers alive. A model asking for an explicit thread count on an
 * already running threaded backend gets it switched (tensors stay valid).
 *
 * The leases live in the running backend's record, which `wasm.ts` owns; `shutdownBackend()`
 * revokes them: it disposes each lease's model (see {@linkcode BackendLease.onRevoke}) before
 * the backend goes.
 *
 * @module
 */
import {
  attachLease,
  type BackendInfo,
  type BackendOptions,
  initBackend,
  setThreads,
} from "./wasm.ts";

/** A model's hold on the backend; give it back with {@linkcode BackendLease.release}. */
export interface BackendLease {
  /** What the backend ran on when the lease was taken. */
  readonly info: BackendInfo;
  /** Whether `shutdownBackend()` has revoked the lease (its model must not start running). */
  readonly revoked: boolean;
  /**
   * Sets what a `shutdownBackend()` calls to end the lease's user: abort its load, later
   * dispose its model (which gives the lease back). Called at once when already revoked.
   */
  onRevoke(revoke: () => unknown): void;
  /** Gives the lease back (once; later calls do nothing). */
  release(): Promise<void>;
}

/**
 * Starts the backend if needed and takes a lease on it. With an explicit numeric `threads` on
 * a running threaded backend whose pool allows it, the thread count is switched to it.
 */
export async function acquireBackend(options: BackendOptions = {}): Promise<BackendLease> {
  let revoker: (() => unknown) | undefined;
  let revoked = false;
  const released = Promise.withResolvers<void>();
  const entry = {
    async revoke() {
      revoked = true;
      if (!revoker) return; // nothing to end: the lease is dropped with the backend
      await revoker();
      await released.promise;
    },
  };
  let detach: false | (() => Promise<void>) = false;
  let info: BackendInfo | undefined;
  // A stop that begins while this waits for the running backend refuses the lease: start again.
  while (!detach) {
    info = await initBackend(options); // waits for a shutdown in progress
    detach = attachLease(entry);
  }
  let held = true;
  const release = (): Promise<void> => {
    if (!held) return Promise.resolve();
    held = false;
    released.resolve();
    return detach ? detach() : Promise.resolve();
  };
  try {
    const wanted = options.threads;
    if (typeof wanted === "number" && wanted !== info!.threads && wanted <= info!.maxThreads) {
      info = await setThreads(wanted);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return {
    info: info!,
    get revoked() {
      return revoked;
    },
    onRevoke(revoke) {
      revoker = revoke;
      if (revoked) revoke();
    },
    release,
  };
}
