// Builds one model class's graphs from a checkpoint in a fresh process, as a load does (describe every graph,
// check the keys, write them one weight at a time), then prints { ms, baselineRssMiB, peakRssMiB, paths } as one
// JSON line. A process of its own, so that its peak RSS is the build's alone, next to the process's baseline.
// Usage: node --conditions=@ortvision/source --import tsx graph-build-child.ts <package> <class> <model dir> <dtype> <out dir>
import {
  type CheckpointGraphsClass,
  type GraphDtype,
  describeCheckpointGraphs,
  openCheckpoint,
  writeDescribedGraph,
} from '@ortvision/core';
import { peakRssMiB } from './harness.js';

type BuildableClass = CheckpointGraphsClass<unknown> & {
  readonly configClass: { fromPretrained(dir: string): Promise<unknown> };
};

const [packageName, className, modelDir, dtype, outDir] = process.argv.slice(2) as [
  string,
  string,
  string,
  GraphDtype,
  string,
];
const rssMiB = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
const exports = (await import(`@ortvision/${packageName}`)) as Record<string, unknown>;
const modelClass = exports[className] as BuildableClass | undefined;
if (!modelClass?.checkpointGraphs)
  throw new Error(`@ortvision/${packageName} has no buildable class ${className}`);
const config = await modelClass.configClass.fromPretrained(modelDir);
const baselineRssMiB = rssMiB();
const start = performance.now();
const described = describeCheckpointGraphs(modelClass, config, await openCheckpoint(modelDir), dtype);
const paths: string[] = [];
for (const graph of Object.keys(described.graphs)) {
  paths.push(await writeDescribedGraph(modelClass, described, graph, outDir));
}
await described.weights.close();
const ms = performance.now() - start;
process.stdout.write(`${JSON.stringify({ ms, baselineRssMiB, peakRssMiB: peakRssMiB(), paths })}\n`);
