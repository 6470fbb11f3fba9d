/**
 * Generates `src/head/imagenet_wordnet.json`: the part of WordNet 3.0's noun hierarchy above the
 * 1000 ImageNet classes (every hypernym of every class, with its lemmas and parents), which
 * category heads (`deno task teach --categories dog,cat --out animals.json`) and the taught
 * heads' hierarchy features read. The module never reads WordNet itself; this script is run once
 * by a developer, and its output is committed.
 *
 * WordNet 3.0 comes from Debian's `wordnet-base` package (`apt-get install wordnet-base`); its
 * noun offsets are ImageNet's wnids (`n` + the 8-digit offset).
 *
 * Run: `deno run --allow-read --allow-write scripts/wordnet_categories.ts [--wordnet DIR] [--out FILE]`
 *
 * @module
 */
import { parseArgs } from "../src/cli/parse_args.ts";
import { IMAGENET_CLASSES } from "../src/labels/imagenet.ts";

/** WordNet's licence: its notice must travel with every copy of data taken from it. */
const LICENSE = "WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. " +
  "Permission to use, copy, modify and distribute this software and database and its " +
  "documentation for any purpose and without fee or royalty is hereby granted, provided that " +
  "you agree to comply with the following copyright notice and statements, including the " +
  "disclaimer, and that the same appear on ALL copies of the software, database and " +
  "documentation, including modifications that you make for internal use or for distribution. " +
  'THIS SOFTWARE AND DATABASE IS PROVIDED "AS IS" AND PRINCETON UNIVERSITY MAKES NO ' +
  "REPRESENTATIONS OR WARRANTIES, EXPRESS OR IMPLIED. BY WAY OF EXAMPLE, BUT NOT LIMITATION, " +
  "PRINCETON UNIVERSITY MAKES NO REPRESENTATIONS OR WARRANTIES OF MERCHANTABILITY OR FITNESS " +
  "FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF THE LICENSED SOFTWARE, DATABASE OR " +
  "DOCUMENTATION WILL NOT INFRINGE ANY THIRD PARTY PATENTS, COPYRIGHTS, TRADEMARKS OR OTHER " +
  "RIGHTS. The name of Princeton University or Princeton may not be used in advertising or " +
  "publicity pertaining to distribution of the software and/or database. Title to copyright " +
  "in this software, database and any associated documentation shall at all times remain " +
  "with Princeton University and LICENSEE agrees to preserve same.";

/** One noun synset as `data.noun` has it. */
interface Synset {
  lemmas: string[];
  parents: string[];
}

/** Reads `data.noun`: offset to lemmas and hypernyms (`@`, and `@i` for instances). */
function readSynsets(text: string): Map<string, Synset> {
  const out = new Map<string, Synset>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith(" ")) continue; // the licence header
    const fields = line.split(" | ")[0].split(" ");
    const words = parseInt(fields[3], 16);
    const lemmas: string[] = [];
    for (let i = 0; i < words; i++) lemmas.push(fields[4 + 2 * i].replace(/\(.*\)$/, ""));
    const at = 4 + 2 * words;
    const pointers = Number(fields[at]);
    const parents: string[] = [];
    for (let i = 0; i < pointers; i++) {
      const [symbol, offset, pos] = fields.slice(at + 1 + 4 * i, at + 4 + 4 * i);
      if ((symbol === "@" || symbol === "@i") && pos === "n") parents.push(`n${offset}`);
    }
    out.set(`n${fields[0]}`, { lemmas, parents });
  }
  return out;
}

/** Reads `index.noun`: lemma to its synsets, most frequent sense first. */
function readSenses(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith(" ")) continue;
    const fields = line.trim().split(" ");
    const synsets = Number(fields[2]);
    out.set(fields[0], fields.slice(-synsets).map((offset) => `n${offset}`));
  }
  return out;
}

/** Every synset above (and including) the ImageNet classes, parents after children. */
function closure(synsets: Map<string, Synset>): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (wnid: string) => {
    if (seen.has(wnid)) return;
    seen.add(wnid);
    const synset = synsets.get(wnid);
    if (!synset) throw new Error(`${wnid} is not in WordNet's data.noun`);
    order.push(wnid);
    for (const parent of synset.parents) visit(parent);
  };
  for (const c of IMAGENET_CLASSES) visit(c.wnid);
  return order;
}

/** Builds the JSON the module ships. */
export function buildHierarchy(dataNoun: string, indexNoun: string) {
  const synsets = readSynsets(dataNoun);
  const senses = readSenses(indexNoun);
  const kept = closure(synsets);
  const at = new Map(kept.map((wnid, i) => [wnid, i]));
  // A lemma's senses among the kept synsets, most frequent first, when it has more than one.
  const ambiguous: Record<string, string[]> = {};
  for (const wnid of kept) {
    for (const lemma of synsets.get(wnid)!.lemmas) {
      const key = lemma.toLowerCase();
      const ranked = (senses.get(key) ?? []).filter((s) => at.has(s));
      if (ranked.length > 1) ambiguous[key] = ranked;
    }
  }
  return {
    about: "The WordNet 3.0 noun hierarchy above the 1000 ImageNet classes, generated by " +
      "scripts/wordnet_categories.ts from Debian's wordnet-base. synsets: [wnid, lemmas, " +
      "parent indices]; senses: a lemma's synsets here, most frequent sense first, when it has " +
      "more than one.",
    license: LICENSE,
    synsets: kept.map((wnid) => {
      const s = synsets.get(wnid)!;
      return [wnid, s.lemmas.join(","), s.parents.map((p) => at.get(p)!)];
    }),
    senses: ambiguous,
  };
}

if (import.meta.main) {
  const flags = parseArgs(Deno.args, { string: ["wordnet", "out"] });
  const dir = (flags.wordnet as string | undefined) ?? "/usr/share/wordnet";
  const out = (flags.out as string | undefined) ??
    new URL("../src/head/imagenet_wordnet.json", import.meta.url).pathname;
  const json = buildHierarchy(
    await Deno.readTextFile(`${dir}/data.noun`),
    await Deno.readTextFile(`${dir}/index.noun`),
  );
  // One synset per line: small diffs when regenerated, and still compact.
  const lines = json.synsets.map((s) => JSON.stringify(s));
  const text = `{\n"about": ${JSON.stringify(json.about)},\n"license": ${
    JSON.stringify(json.license)
  },\n"synsets": [\n${lines.join(",\n")}\n],\n"senses": ${JSON.stringify(json.senses)}\n}\n`;
  await Deno.writeTextFile(out, text);
  console.log(`${out}: ${json.synsets.length} synsets, ${text.length} bytes`);
}
