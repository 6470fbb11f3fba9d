/**
 * The 1000 ImageNet (ILSVRC-2012) classes in the index order of Keras and TF.js MobileNet
 * (sorted WordNet id order), with readable labels.
 *
 * @module
 */
import classes from "./imagenet_classes.json" with { type: "json" };

/** One ImageNet class. */
export interface ImageNetClass {
  /** Class index, 0..999, as the model outputs it. */
  index: number;
  /** WordNet synset id, e.g. `n02504458`. */
  wnid: string;
  /** Short readable label (Keras' label, underscores as spaces), e.g. `African elephant`. */
  label: string;
  /** The long label of the TF.js MobileNet, e.g. `African elephant, Loxodonta africana`. */
  longLabel: string;
}

/** All 1000 classes, index order. */
export const IMAGENET_CLASSES: readonly ImageNetClass[] = Object.freeze(
  (classes as [string, string, string][]).map(([wnid, keras, longLabel], index) =>
    Object.freeze({ index, wnid, label: keras.replaceAll("_", " "), longLabel })
  ),
);

/** The short labels of all 1000 classes, index order. */
export const IMAGENET_LABELS: readonly string[] = Object.freeze(
  IMAGENET_CLASSES.map((c) => c.label),
);
