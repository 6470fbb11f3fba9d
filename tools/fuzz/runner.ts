/**
 * The parent's side of a child: starts `child.ts` with a V8 heap limit, sends it inputs one at a
 * time and watches each one from outside, reading the child's CPU time and resident memory in
 * `/proc`. An input that takes more CPU than the time bound (or, for a child that stops using
 * CPU, several times the bound in wall time) is a hang, one that pushes the child's RSS over the
 * memory bound is an oom: the child is killed either way, and started again by the caller. A
 * child that dies on its own (an abort, V8 running out of heap) is a crash, with the end of its
 * stderr kept. Each input's peak RSS is measured by resetting the kernel's high-water mark
 * before it (`/proc/<pid>/clear_refs`).
 *
 * @module
 */
import type { Format } from "./mutator.ts";
import { type ChildEvent, encodeFrame, LINE_PREFIX, OP } from "./protocol.ts";
import type { Verdict } from "./targets.ts";

/** The bounds every input runs under. */
export interface Bounds {
  /** CPU time for one input, in ms; over it the input is a hang. @default {2000} */
  timeoutMs: number;
  /** Wall time for one input, in ms, for a child that stops using CPU. @default {10 x timeoutMs} */
  wallMs: number;
  /** The child's resident memory, in MB; over it the input is an oom. @default {300} */
  memoryMb: number;
}

/** The default bounds: 2 s of CPU (20 s of wall time, for a child that stops using CPU), 300 MB. */
export const DEFAULT_BOUNDS: Bounds = { timeoutMs: 2000, wallMs: 20_000, memoryMb: 300 };

/** What became of one input. */
export interface RunResult {
  /** The child's verdict, when it finished the input. */
  verdict?: Verdict;
  /** Why the parent killed the child. */
  killed?: "hang" | "oom";
  /** The child died by itself: exit code or signal, and the end of its stderr. */
  died?: { code: number; signal: string | null; stderr: string };
  cpuMs: number;
  wallMs: number;
  /** Peak RSS while the input ran, in MB. */
  rssMb: number;
}

/** How to start a child. */
export interface ChildOptions {
  bounds: Bounds;
  /** Load the model (for the answer checks). @default {true} */
  model?: boolean;
  /** A module exporting `createTarget` (tests plant misbehaving targets this way). */
  targetModule?: string;
}

const CHILD = new URL("./child.ts", import.meta.url);
const POLL_MS = 20;
const dec = new TextDecoder();

/**
 * User plus system CPU time of a process, in ms (clock ticks of 10 ms); undefined when it is gone
 * (a child can exit between two polls, even right after it said it started).
 */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM of a process, in MB (0 when it is gone). */
function memory(pid: number): { rss: number; peak: number } {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
  } catch {
    return { rss: 0, peak: 0 };
  }
}

function resetPeak(pid: number): void {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // an older kernel, or the child is gone: the peak then covers earlier inputs too
  }
}

/** Events from the child's stdout, in order; `exit` when the stream ends. */
class EventQueue {
  #items: (ChildEvent | "exit")[] = [];
  #waiter?: (event: ChildEvent | "exit") => void;
  #pending?: Promise<ChildEvent | "exit">;

  push(event: ChildEvent | "exit"): void {
    if (this.#waiter) {
      const waiter = this.#waiter;
      this.#waiter = undefined;
      this.#pending = undefined;
      waiter(event);
    } else {
      this.#items.push(event);
    }
  }

  /** The next event; the same promise until it resolves. */
  next(): Promise<ChildEvent | "exit"> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!);
    return this.#pending ??= new Promise((resolve) => (this.#waiter = resolve));
  }
}

/** Resolves after `ms`, with a way to cancel the timer. */
function sleep(ms: number): { done: Promise<"tick">; cancel(): void } {
  let id: ReturnType<typeof setTimeout> | undefined;
  const done = new Promise<"tick">((resolve) => (id = setTimeout(() => resolve("tick"), ms)));
  return { done, cancel: () => clearTimeout(id) };
}

/** The children alive now, so that an interrupted run can kill them all. */
const LIVE = new Set<Deno.ChildProcess>();

/** Kills every child still alive (for SIGINT and SIGTERM in the parent). */
export function killAllChildren(): void {
  for (const process of LIVE) {
    try {
      process.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** One child process and the inputs it runs. */
export class Child {
  readonly #process: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #events = new EventQueue();
  readonly #bounds: Bounds;
  readonly #drained: Promise<unknown>;
  #stderr = "";
  #alive = true;
  #readyRss = 0;
  #status?: Deno.CommandStatus;
  /** Other lines the child printed (a library's logging), at most a few. */
  readonly stray: string[] = [];

  private constructor(options: ChildOptions) {
    this.#bounds = options.bounds;
    const args = [
      "run",
      "--allow-read",
      "--allow-env",
      `--v8-flags=--max-old-space-size=${options.bounds.memoryMb}`,
      CHILD.href,
      ...(options.model === false ? ["--no-model"] : []),
      ...(options.targetModule ? ["--target-module", options.targetModule] : []),
    ];
    this.#process = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { MOBILENET_EDGE_THREADS: "1", NO_COLOR: "1" },
    }).spawn();
    this.#writer = this.#process.stdin.getWriter();
    this.#drained = Promise.all([this.#readStdout(), this.#readStderr()]);
    LIVE.add(this.#process);
    this.#process.status.then((status) => {
      LIVE.delete(this.#process);
      this.#alive = false;
      this.#status = status;
    });
  }

  /** Starts a child and waits until it is ready (decoders compiled, model loaded). */
  static async start(options: ChildOptions): Promise<Child> {
    const child = new Child(options);
    const first = await child.#events.next();
    if (first === "exit" || first.ev !== "ready") {
      await child.close();
      throw new Error(`fuzz child did not start: ${child.#stderr.slice(-2000)}`);
    }
    child.#readyRss = memory(child.pid).rss;
    return child;
  }

  /**
   * How much the child's RSS, idle between inputs, has grown since it was ready, in MB: memory
   * that earlier inputs left behind (WASM memories never shrink), which the next input would be
   * charged for.
   */
  get grownMb(): number {
    return this.#alive ? memory(this.pid).rss - this.#readyRss : 0;
  }

  /** The child's process id. */
  get pid(): number {
    return this.#process.pid;
  }

  /** False once the child has exited or been killed. */
  get alive(): boolean {
    return this.#alive;
  }

  async #readStdout(): Promise<void> {
    let text = "";
    for await (const chunk of this.#process.stdout) {
      text += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = text.indexOf("\n")) >= 0) {
        const line = text.slice(0, nl);
        text = text.slice(nl + 1);
        if (line.startsWith(LINE_PREFIX)) {
          this.#events.push(JSON.parse(line.slice(LINE_PREFIX.length)));
        } else if (this.stray.length < 20) this.stray.push(line.slice(0, 200));
      }
    }
    this.#events.push("exit");
  }

  async #readStderr(): Promise<void> {
    for await (const chunk of this.#process.stderr) {
      this.#stderr = (this.#stderr + dec.decode(chunk, { stream: true })).slice(-8192);
    }
  }

  async #send(op: number, format: Format, payload: Uint8Array): Promise<boolean> {
    try {
      await this.#writer.write(encodeFrame(op, format, payload));
      return true;
    } catch {
      return false; // the child is gone
    }
  }

  async #died(): Promise<RunResult["died"]> {
    const status = await this.#process.status;
    await this.#drained;
    return { code: status.code, signal: status.signal, stderr: this.#stderr.slice(-2000) };
  }

  /** Kills the child (SIGKILL) and waits for it. */
  async kill(): Promise<void> {
    if (this.#alive) {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    await this.#process.status;
    await this.#drained;
  }

  /** Runs one input under the bounds. */
  async run(format: Format, bytes: Uint8Array): Promise<RunResult> {
    const pid = this.pid;
    resetPeak(pid);
    const t0 = performance.now();
    let cpu0 = -1;
    let peak = 0;
    const sent = await this.#send(OP.run, format, bytes);
    let event = this.#events.next();
    for (;;) {
      const tick = sleep(POLL_MS);
      const got = await Promise.race([event, tick.done]);
      tick.cancel();
      const wall = performance.now() - t0;
      if (got === "exit" || (!sent && got === "tick" && !this.#alive)) {
        return { died: await this.#died(), cpuMs: 0, wallMs: Math.round(wall), rssMb: peak };
      }
      if (got !== "tick") {
        event = this.#events.next();
        if (got.ev === "start") cpu0 = cpuMs(pid) ?? -1; // gone: the next event says so
        if (got.ev !== "done") continue;
        const rssMb = Math.max(peak, memory(pid).peak);
        return { verdict: got.verdict, cpuMs: got.cpuMs, wallMs: got.wallMs, rssMb };
      }
      const now = cpuMs(pid);
      if (now === undefined) continue; // the child is exiting; the next event says so
      const used = cpu0 < 0 ? 0 : now - cpu0;
      peak = Math.max(peak, memory(pid).rss);
      const killed = peak > this.#bounds.memoryMb
        ? "oom"
        : used > this.#bounds.timeoutMs || wall > this.#bounds.wallMs
        ? "hang"
        : undefined;
      if (killed) {
        await this.kill();
        return { killed, cpuMs: used, wallMs: Math.round(wall), rssMb: Math.round(peak) };
      }
    }
  }

  /** Asks the child to classify the reference photo; its answer as JSON, or why it has none. */
  async check(timeoutMs = 120_000): Promise<string> {
    if (!await this.#send(OP.check, "jpeg", new Uint8Array(0))) return "child gone";
    const tick = sleep(timeoutMs);
    const got = await Promise.race([this.#events.next(), tick.done]);
    tick.cancel();
    if (got === "tick") {
      await this.kill();
      return "no answer in time";
    }
    return got === "exit"
      ? "child died during the check"
      : got.ev === "check"
      ? got.answer
      : "protocol error";
  }

  /** Asks the child to quit, killing it if it does not within a few seconds. */
  async close(): Promise<void> {
    if (this.#alive && await this.#send(OP.quit, "jpeg", new Uint8Array(0))) {
      const tick = sleep(5000);
      await Promise.race([this.#process.status, tick.done]);
      tick.cancel();
    }
    try {
      await this.#writer.close();
    } catch {
      // the pipe is already closed
    }
    await this.kill();
  }

  /** The exit status, once the child has exited. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }
}
