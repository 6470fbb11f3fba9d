/**
 * Shared use of the one WASM backend by several models. Each model takes a lease when it is
 * created and gives it back when it is disposed; when the last lease goes and no tensor is
 * left on the backend, the backend shuts down, so its pthread workers end and a process that
 * created and disposed models keeps no workers alive. A model asking for an explicit thread
 * count on an already running threaded backend gets it switched (tensors stay valid).
 *
 * @module
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import {
  type BackendInfo,
  backendInfo,
  type BackendOptions,
  initBackend,
  setThreads,
  shutdownBackend,
} from "./wasm.ts";

/** Leases held. The backend's start/stop state is `wasm.ts`'s: a start always waits for a stop. */
let leases = 0;

/** A model's hold on the backend; give it back with {@linkcode BackendLease.release}. */
export interface BackendLease {
  /** What the backend ran on when the lease was taken. */
  readonly info: BackendInfo;
  /** Gives the lease back (once; later calls do nothing). */
  release(): Promise<void>;
}

/**
 * Starts the backend if needed and takes a lease on it. With an explicit numeric `threads` on
 * a running threaded backend whose pool allows it, the thread count is switched to it.
 */
export async function acquireBackend(options: BackendOptions = {}): Promise<BackendLease> {
  leases++;
  let info: BackendInfo;
  try {
    info = await initBackend(options); // waits for a shutdown in progress
    const wanted = options.threads;
    if (typeof wanted === "number" && wanted !== info.threads && wanted <= info.maxThreads) {
      info = await setThreads(wanted);
    }
  } catch (error) {
    leases--;
    throw error;
  }
  let held = true;
  return {
    info,
    release() {
      if (!held) return Promise.resolve();
      held = false;
      return releaseOne();
    },
  };
}

function releaseOne(): Promise<void> {
  leases--;
  if (leases > 0 || !backendInfo()) return Promise.resolve();
  // The engine's own counter: tensors the caller still holds would die with the backend.
  if (tf.engine().state.numTensors > 0) return Promise.resolve();
  return shutdownBackend();
}
