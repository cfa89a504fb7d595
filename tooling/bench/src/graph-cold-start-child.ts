// One cold load in a fresh process, as a user's program does it: `fromPretrained` of a model class on a folder, then
// the first session.run on a fixed tensor. Prints { ms, peakRssMiB, builds } as one JSON line: ms from just before
// fromPretrained to the first result (imports excluded, so the TypeScript loader costs nothing), builds the number
// of graph-build events (0 when the graph came from the build cache or from onnx/).
// Usage: node --conditions=@ortvision/source --import tsx graph-cold-start-child.ts <package> <class> <model dir>
//   <graphSource> <graphCacheDir> <feeds: { name: { type, dims } } JSON> <sessionOptions JSON>
import { type GraphSource, type NamedTensors, Tensor } from '@ortvision/core';
import { peakRssMiB } from './harness.js';

type LoadableClass = {
  fromPretrained(
    dir: string,
    options: object,
  ): Promise<{ forward(feeds: never): Promise<NamedTensors>; dispose(): Promise<void> }>;
};

const [packageName, className, modelDir, graphSource, graphCacheDir, feedsJson, sessionOptionsJson] =
  process.argv.slice(2) as [string, string, string, GraphSource, string, string, string];
const exports = (await import(`@ortvision/${packageName}`)) as Record<string, unknown>;
const modelClass = exports[className] as LoadableClass | undefined;
if (!modelClass) throw new Error(`@ortvision/${packageName} has no class ${className}`);
const feeds: NamedTensors = {};
for (const [name, { type, dims }] of Object.entries(
  JSON.parse(feedsJson) as Record<string, { type: string; dims: number[] }>,
)) {
  const size = dims.reduce((a, b) => a * b, 1);
  // Token ids and attention masks of 1: a valid id in every vocabulary, and no row fully masked.
  feeds[name] =
    type === 'int64'
      ? new Tensor('int64', new BigInt64Array(size).fill(1n), dims)
      : new Tensor(
          'float32',
          Float32Array.from({ length: size }, (_, i) => Math.sin(i)),
          dims,
        );
}
let builds = 0;
const start = performance.now();
const model = await modelClass.fromPretrained(modelDir, {
  graphSource,
  graphCacheDir,
  sessionOptions: JSON.parse(sessionOptionsJson),
  onProgress: (progress: { kind?: string }) => {
    if (progress.kind === 'build') builds++;
  },
});
await model.forward(feeds as never);
const ms = performance.now() - start;
await model.dispose();
process.stdout.write(`${JSON.stringify({ ms, peakRssMiB: peakRssMiB(), builds })}\n`);
