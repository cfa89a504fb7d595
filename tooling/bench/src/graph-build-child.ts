// Builds every graph a model class declares (`static checkpointGraphs`) from a checkpoint folder in a fresh process
// and prints { describeMs, writeMs, baselineRssMiB, peakRssMiB, graphs, bytes } as one JSON line: a process of its
// own, so that the peak RSS is the build's alone (the graphs are written one weight at a time; AltCLIP's 3.5 GB
// must not need 3.5 GB of memory).
// Usage: node --conditions=@ortvision/source --import tsx graph-build-child.ts <class> <config folder>
//          <checkpoint folder> <fp32|fp16|q8> <out dir>
import { stat } from 'node:fs/promises';
import { AltCLIPModel } from '@ortvision/altclip';
import { CLIPSegForImageSegmentation } from '@ortvision/clipseg';
import {
  type CheckpointGraphsClass,
  type GraphDtype,
  describeCheckpointGraphs,
  openCheckpoint,
  writeDescribedGraph,
} from '@ortvision/core';
import { Owlv2ForObjectDetection } from '@ortvision/owlv2';
import { ViTForImageClassification } from '@ortvision/vit';

interface Buildable<C> extends CheckpointGraphsClass<C> {
  readonly configClass: { fromPretrained(folder: string): Promise<C> };
}

/** The classes the graph suites build, by transformers' class name. */
const classes: Record<string, Buildable<unknown>> = {
  ViTForImageClassification,
  CLIPSegForImageSegmentation,
  Owlv2ForObjectDetection,
  AltCLIPModel,
} as Record<string, Buildable<unknown>>;

const [className, configFolder, checkpointFolder, dtype, outDir] = process.argv.slice(2) as [
  string,
  string,
  string,
  GraphDtype,
  string,
];
const modelClass = classes[className];
if (!modelClass) throw new Error(`no class ${className} (known: ${Object.keys(classes).join(', ')})`);
const rssMiB = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
const config = await modelClass.configClass.fromPretrained(configFolder);
const baselineRssMiB = rssMiB();
const start = performance.now();
const described = describeCheckpointGraphs(modelClass, config, await openCheckpoint(checkpointFolder), dtype);
const describeMs = performance.now() - start;
const graphs: Record<string, string> = {};
let bytes = 0;
for (const graph of Object.keys(described.graphs)) {
  const path = await writeDescribedGraph(modelClass, described, graph, outDir);
  graphs[graph] = path;
  bytes += (await stat(path)).size;
  bytes += await stat(`${path}_data`).then(
    (s) => s.size,
    () => 0,
  );
}
await described.weights.close();
const writeMs = performance.now() - start - describeMs;
const peakRssMiB = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
process.stdout.write(
  `${JSON.stringify({ describeMs, writeMs, baselineRssMiB, peakRssMiB, graphs, bytes })}\n`,
);
