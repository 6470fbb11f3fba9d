/**
 * Ingest defaults that are deliberate choices.
 *
 * @module
 */
import type { ResizeMode } from "../image/preprocess.ts";

/**
 * How ingest fits camera frames to the model's square input, unless told otherwise
 * (`--resize`). Camera frames are mostly 16:9: a square centre crop keeps only 9/16 of the width
 * and drops 44% of the frame (a person at the edge of a driveway camera is cut away), while
 * "stretch" keeps the whole field of view and squeezes it. The crop evaluation on camera frames
 * is pending; until then ingest stretches.
 */
export const INGEST_RESIZE: ResizeMode = "stretch";
