/**
 * The part of `curl` the docs' examples use, for machines without curl (the doc test puts it
 * on the PATH as `curl` only then): `-H 'name: value'`, `--data-binary @FILE`, `--data TEXT`
 * (`-d`), `-F name=@FILE`, `-X METHOD`, `-s`; the body of the answer goes to stdout, as curl
 * prints it. Any other flag exits 2, so an example that needs real curl fails visibly.
 *
 * ```sh
 * deno run --allow-read --allow-net tests/docs/_curl.ts -F file=@photo.jpg http://127.0.0.1:8000/v1/classify
 * ```
 *
 * @module
 */

const TYPES: Record<string, string> = {
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  png: "image/png",
  gif: "image/gif",
  txt: "text/plain",
};

/** The request the arguments describe, as `[url, init]` for `fetch`. */
export async function request(args: string[]): Promise<[string, RequestInit]> {
  const headers = new Headers();
  let url = "", method: string | undefined, body: BodyInit | undefined;
  let form: FormData | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = () => args[++i] ?? "";
    if (arg === "-s" || arg === "--silent") continue;
    else if (arg === "-H" || arg === "--header") {
      const [name, ...rest] = value().split(":");
      headers.set(name.trim(), rest.join(":").trim());
    } else if (arg === "--data-binary" || arg === "--data" || arg === "-d") {
      const data = value();
      body = data.startsWith("@") ? await Deno.readFile(data.slice(1)) : data;
    } else if (arg === "-F" || arg === "--form") {
      const [name, file] = value().split("=@");
      const type = TYPES[file.split(".").pop()?.toLowerCase() ?? ""] ?? "application/octet-stream";
      form ??= new FormData();
      form.append(name, new File([await Deno.readFile(file)], file.split("/").pop()!, { type }));
    } else if (arg === "-X" || arg === "--request") method = value();
    else if (!arg.startsWith("-")) url = arg;
    else throw new Error(`unsupported curl flag ${arg}`);
  }
  if (body !== undefined && !headers.has("content-type")) {
    headers.set("content-type", "application/x-www-form-urlencoded");
  }
  method ??= body !== undefined || form ? "POST" : "GET";
  return [url, { method, headers, body: form ?? body }];
}

if (import.meta.main) {
  try {
    const [url, init] = await request(Deno.args);
    const response = await fetch(url, init);
    await Deno.stdout.write(new Uint8Array(await response.arrayBuffer()));
  } catch (error) {
    console.error(`curl: ${error instanceof Error ? error.message : error}`);
    Deno.exit(2);
  }
}
