/**
 * `deno task convert <input> <outdir> [--shard-size N]`: converts a Keras MobileNet v1 saved
 * as TF.js layers files into the project's sharded weights format and writes `manifest.json`
 * and the shards to `outdir`.
 *
 * @module
 */
import { parseArgs } from "./parse_args.ts";
import { readTfjsLayers } from "../weights/convert/tfjs_layers.ts";
import { writeWeights } from "../weights/writer.ts";
import { manifestUrl } from "../weights/loader.ts";
import { DEFAULT_SHARD_SIZE } from "../weights/manifest.ts";

const USAGE =
  `usage: deno task convert <model.json or its directory> <outdir> [--shard-size BYTES]`;

/** Runs the command with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, { string: ["shard-size"], boolean: ["help"], alias: { h: "help" } });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (parsed.help || parsed._.length !== 2) {
    (parsed.help ? console.log : console.error)(USAGE);
    return parsed.help ? 0 : 2;
  }
  const [input, outdir] = parsed._;
  const shardSize = Number(parsed["shard-size"] ?? DEFAULT_SHARD_SIZE);
  const inputUrl = manifestUrl(input.endsWith(".json") ? input : `${input.replace(/\/$/, "")}/`);
  const modelJson = inputUrl.pathname.endsWith("/manifest.json")
    ? new URL("model.json", inputUrl)
    : inputUrl;
  try {
    const { config, tensors } = await readTfjsLayers(modelJson);
    const written = await writeWeights(config, tensors, {
      shardSize,
      generatedBy: `mobilenet-edge convert from TF.js layers ${
        modelJson.pathname.split("/").at(-2)
      }`,
    });
    await Deno.mkdir(outdir, { recursive: true });
    await Promise.all(
      written.manifest.shards.map((s, i) =>
        Deno.writeFile(`${outdir}/${s.file}`, written.shards[i])
      ),
    );
    await Deno.writeTextFile(
      `${outdir}/manifest.json`,
      JSON.stringify(written.manifest, null, 2) + "\n",
    );
    const bytes = written.shards.reduce((n, s) => n + s.byteLength, 0);
    console.log(
      `wrote ${outdir}: alpha=${config.alpha} resolution=${config.resolution} ` +
        `top=${config.includeTop} ${tensors.length} tensors, ${written.shards.length} shards, ` +
        `${bytes} bytes`,
    );
    return 0;
  } catch (error) {
    console.error(`convert: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
