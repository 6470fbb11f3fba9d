/**
 * Measures top-1 and top-5 accuracy of the "stretch" and "center-crop" resize modes on the
 * labelled development photos in tests/fixtures/images (labels.csv), for each bundled model,
 * and the top-1 agreement of "stretch" with the reference pipeline. Prints a table.
 *
 * Run: deno run --allow-read --allow-env bench/resize_accuracy.ts
 *
 * @module
 */
import { loadMobileNet } from "../mod.ts";

const fixtures = new URL("../tests/fixtures/", import.meta.url);
const rows = (await Deno.readTextFile(new URL("labels.csv", fixtures))).trim().split("\n")
  .slice(1).map((line) => {
    const [file, index] = line.split(",");
    return { file, index: Number(index) };
  });

for (const name of ["0.75_224", "0.25_224"]) {
  const reference = JSON.parse(
    await Deno.readTextFile(new URL(`reference_${name}.json`, fixtures)),
  ) as { images: { file: string; top5_indices: number[] }[] };
  const refTop1 = new Map(reference.images.map((e) => [e.file, e.top5_indices[0]]));
  for (const resize of ["stretch", "center-crop"] as const) {
    const model = await loadMobileNet({ model: name, resize });
    let top1 = 0, top5 = 0, agree = 0;
    for (const row of rows) {
      const bytes = await Deno.readFile(new URL(`images/${row.file}`, fixtures));
      const predictions = await model.classify(bytes, { topK: 5 });
      if (predictions[0].index === row.index) top1++;
      if (predictions.some((p) => p.index === row.index)) top5++;
      if (predictions[0].index === refTop1.get(row.file)) agree++;
    }
    console.log(
      `${name} ${resize.padEnd(11)} top-1 ${top1}/${rows.length} (${
        (100 * top1 / rows.length).toFixed(1)
      }%)  top-5 ${top5}/${rows.length}  same top-1 as reference ${agree}/${rows.length}`,
    );
    model.dispose();
  }
}
