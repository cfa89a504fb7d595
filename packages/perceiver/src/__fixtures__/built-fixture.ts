import { cp } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type GraphDtype,
  describeCheckpointGraphs,
  openCheckpoint,
  writeDescribedGraph,
} from '@ortvision/core';
import { fixturePath } from '@ortvision/core/testing';
import { PerceiverConfig } from '../config.js';
import { type PerceiverFixture, fixtureClasses } from './fixture-classes.js';

/**
 * A copy of a Perceiver fixture's model folder (config, tokenizer and processor files, checkpoint) at `folder`,
 * whose `onnx/` holds the graphs its class builds from the checkpoint for `dtype` (`model.onnx`,
 * `model_quantized.onnx`, ...) instead of the exported ones. Calling it again for another dtype adds that dtype's
 * graphs. Returns the built graph files by graph key.
 */
export async function buildFixtureFolder(
  name: PerceiverFixture,
  folder: string,
  dtype: GraphDtype = 'fp32',
): Promise<Record<string, string>> {
  const source = fixturePath(name);
  await cp(source, folder, {
    recursive: true,
    filter: (path) => !['onnx', 'reference'].includes(basename(path)) || path === source,
  });
  const modelClass = fixtureClasses[name];
  const config = await PerceiverConfig.fromPretrained(folder);
  const described = describeCheckpointGraphs(modelClass, config, await openCheckpoint(folder), dtype);
  const paths: Record<string, string> = {};
  try {
    for (const graph of Object.keys(described.graphs)) {
      paths[graph] = await writeDescribedGraph(modelClass, described, graph, join(folder, 'onnx'));
    }
  } finally {
    await described.weights.close();
  }
  return paths;
}
