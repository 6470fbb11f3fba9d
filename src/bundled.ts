/**
 * The models that ship with mobilenet-edge, and how a `model` option (a bundled name, a path,
 * or a URL) turns into the URL of a weights manifest.
 *
 * @module
 */
import { UnknownModelError } from "./errors.ts";
import { manifestUrl } from "./weights/loader.ts";

/** Bundled models: name to folder under `weights/`. */
export const BUNDLED_MODELS: Readonly<Record<string, string>> = Object.freeze({
  "0.75_224": "mobilenet_v1_0.75_224",
  "0.25_224": "mobilenet_v1_0.25_224",
});

/** The model loaded when none is named. */
export const DEFAULT_MODEL = "0.75_224";

/**
 * The bundled model with this alpha and resolution (e.g. the base model a head names), if one
 * is bundled: `"0.25_224"` for `{ alpha: 0.25, resolution: 224 }`.
 */
export function bundledModelFor(base: { alpha?: number; resolution?: number }): string | undefined {
  const name = `${base.alpha}_${base.resolution}`;
  return name in BUNDLED_MODELS ? name : undefined;
}

/** Whether a `model` string is a path or URL rather than a bundled model's name. */
export function looksLikeLocation(model: string): boolean {
  return /^(https?|file):/i.test(model) || /[\\/]/.test(model) || model.endsWith(".json") ||
    model.startsWith(".");
}

/**
 * Resolves a model name (`"0.75_224"`, also `"mobilenet_v1_0.75_224"`), a weights directory or
 * manifest path, or a URL to the URL of its `manifest.json`.
 *
 * @throws {UnknownModelError} for a name that is not bundled and not a path or URL.
 */
export function resolveModel(model: string | URL = DEFAULT_MODEL): URL {
  if (model instanceof URL) return manifestUrl(model);
  if (typeof model !== "string" || model === "") {
    throw new TypeError(`model must be a non-empty string or URL, got ${String(model)}`);
  }
  const name = model.replace(/^mobilenet_v1_/, "");
  const folder = BUNDLED_MODELS[name];
  if (folder) return new URL(`../weights/${folder}/manifest.json`, import.meta.url);
  if (looksLikeLocation(model)) return manifestUrl(model);
  throw new UnknownModelError(model, Object.keys(BUNDLED_MODELS));
}
