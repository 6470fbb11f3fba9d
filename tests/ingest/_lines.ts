/**
 * Reading a child process's output line by line in tests.
 *
 * @module
 */

/** Lines of a byte stream, read as they come; `next(timeoutMs)` gives the next one. */
export class LineReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";
  readonly lines: string[] = [];

  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next line, or undefined at end of stream or after `timeoutMs`. */
  async next(timeoutMs = 20_000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.#buffer.indexOf("\n");
      if (nl >= 0) {
        const line = this.#buffer.slice(0, nl);
        this.#buffer = this.#buffer.slice(nl + 1);
        this.lines.push(line);
        return line;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
      });
      const result = await Promise.race([this.#reader.read(), timeout]);
      clearTimeout(timer);
      if (result === "timeout") return undefined;
      if (result.done) return undefined;
      this.#buffer += result.value;
    }
  }

  /** Reads everything that is left. */
  async rest(): Promise<string[]> {
    const out: string[] = [];
    for (let line = await this.next(); line !== undefined; line = await this.next()) out.push(line);
    return out;
  }
}
