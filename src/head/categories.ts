/**
 * Heads made from WordNet instead of examples: each category sums the ImageNet probabilities
 * of the classes under its synset, each class counted for the most specific category it is
 * under.
 *
 * @module
 */
import { HeadError } from "./errors.ts";
import { findSynset, type Synset } from "./hierarchy.ts";
import { checkLabels, HEAD_FORMAT, HEAD_FORMAT_VERSION, type HeadJson } from "./format.ts";
import { IMAGENET_CLASS_COUNT } from "./features.ts";
import { errorMessage } from "../_util.ts";

function resolve(name: string): Synset {
  const synset = findSynset(name);
  if (!synset) {
    throw new HeadError(
      "BAD_HEAD",
      `no WordNet noun "${name}" above the ImageNet classes (try a broader word, e.g. "animal", ` +
        `"vehicle", "dog", or a WordNet id like n02084071)`,
    );
  }
  return synset;
}

/**
 * The head file (without its hash) of a categories head.
 *
 * @throws {HeadError} `BAD_HEAD` for an unknown or repeated name, a category left with no class
 * of its own, or a bad threshold.
 */
export function categoriesJson(
  names: readonly string[],
  threshold: number,
): Omit<HeadJson, "sha256"> {
  let labels: string[];
  try {
    labels = checkLabels(names.map((n) => String(n).trim()));
  } catch (error) {
    throw new HeadError("BAD_HEAD", `categories: ${errorMessage(error)}`);
  }
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new HeadError("BAD_HEAD", `threshold must be from 0 to 1, got ${threshold}`);
  }
  const synsets = labels.map(resolve);
  // each ImageNet class goes to the most specific category above it (fewest classes)
  const owner = new Int32Array(IMAGENET_CLASS_COUNT).fill(-1);
  synsets.forEach((s, c) => {
    for (const j of s.classes) {
      if (owner[j] < 0 || synsets[owner[j]].classes.length > s.classes.length) owner[j] = c;
    }
  });
  const categories = synsets.map((_, c) => [...owner.keys()].filter((j) => owner[j] === c));
  categories.forEach((list, c) => {
    if (list.length === 0) {
      throw new HeadError(
        "BAD_HEAD",
        `category "${labels[c]}" has no ImageNet class of its own (the others cover them all)`,
      );
    }
  });
  return {
    format: HEAD_FORMAT,
    formatVersion: HEAD_FORMAT_VERSION,
    kind: "categories",
    labels,
    model: { labels: "imagenet" },
    preprocessing: { resize: null, zone: null },
    categories,
    threshold,
    report: {
      createdBy: "mobilenet-edge categories (WordNet 3.0)",
      synsets: synsets.map((s, c) => ({
        label: labels[c],
        wnid: s.wnid,
        lemmas: s.lemmas,
        classes: categories[c].length,
      })),
    },
  };
}
