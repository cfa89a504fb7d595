import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { StateDict } from '../checkpoint/state-dict.js';
import { InvalidArgumentError } from '../errors.js';
import type { BuiltGraph } from '../onnx/model-graph.js';
import type { GraphDtype } from '../onnx/module.js';
import { type WriteOnnxModelOptions, writeOnnxModel } from '../onnx/write-model.js';
import { graphFileName } from '../runtime/model-file.js';
import type { CheckpointGraphs } from './checkpoint-graphs.js';

/** What `describeCheckpointGraphs` needs of a model class. */
export interface CheckpointGraphsClass<C> {
  readonly name: string;
  /** Graph key -> file name (`{ model: 'model' }`), as `PreTrainedModel.graphs`. */
  readonly graphs: Readonly<Record<string, string>>;
  readonly checkpointGraphs: CheckpointGraphs<C> | undefined;
}

/** Every graph of a class described on one checkpoint, its keys checked; nothing written yet. */
export interface DescribedCheckpointGraphs {
  readonly dtype: GraphDtype;
  /** Graph key -> its description. */
  readonly graphs: Readonly<Record<string, BuiltGraph>>;
  /** The key-fixing view the descriptions read from (close it after writing). */
  readonly weights: StateDict;
}

/**
 * Describes every graph a model class builds from a checkpoint (an optional graph only when the checkpoint holds
 * its weights: `CheckpointGraphs.optionalGraphs`) and checks the checkpoint's keys as a whole: a
 * missing weight or a wrong shape fails here (while describing), and so does a stored weight that no graph of
 * the class reads unless the class or the checkpoint's layout makes it ignorable (`StateDict.checkUnused`).
 * Only the index is read: weights are read when `writeDescribedGraph` writes a graph.
 *
 * @example
 * ```ts
 * const checkpoint = await openCheckpoint('./vit-digits');
 * const described = describeCheckpointGraphs(ViTForImageClassification, config, checkpoint, 'q8');
 * const path = await writeDescribedGraph(ViTForImageClassification, described, 'model', './out');
 * await described.weights.close();
 * ```
 */
export function describeCheckpointGraphs<C>(
  modelClass: CheckpointGraphsClass<C>,
  config: C,
  checkpoint: Checkpoint,
  dtype: GraphDtype,
): DescribedCheckpointGraphs {
  const spec = modelClass.checkpointGraphs;
  if (!spec) {
    throw new InvalidArgumentError(
      `${modelClass.name} cannot be built from a checkpoint: it runs exported ONNX graphs only`,
    );
  }
  const weights = new StateDict(checkpoint, {
    model: modelClass.name,
    baseModelPrefix: spec.baseModelPrefix,
    expectsPrefix: spec.expectsPrefix,
    ignoreUnused: spec.ignoreUnused,
    tiedWeights: spec.tiedWeights,
  });
  const graphs: Record<string, BuiltGraph> = {};
  for (const [graph, build] of Object.entries(spec.graphs)) {
    const needs = spec.optionalGraphs?.[graph];
    if (needs !== undefined && !weights.has(needs)) continue;
    const built = build(config, weights, { dtype });
    const unused = new Set(built.unusedKeys);
    for (const key of weights.keys()) if (!unused.has(key)) weights.markUsed(key);
    graphs[graph] = built;
  }
  weights.checkUnused();
  return { dtype, graphs, weights };
}

/**
 * Writes one described graph as `<dir>/<file name for the dtype>` (`model.onnx`, `model_quantized.onnx`, with its
 * `.onnx_data` beside it), reading the weights one at a time; returns the graph file's path. `options` go to
 * `writeOnnxModel` (`onProgress` per weight written, `signal` checked between weights).
 */
export async function writeDescribedGraph<C>(
  modelClass: CheckpointGraphsClass<C>,
  described: DescribedCheckpointGraphs,
  graph: string,
  dir: string,
  options: Pick<WriteOnnxModelOptions, 'onProgress' | 'signal'> = {},
): Promise<string> {
  const built = described.graphs[graph];
  const name = modelClass.graphs[graph];
  if (!built || name === undefined) {
    throw new InvalidArgumentError(
      `${modelClass.name} builds no graph '${graph}' from a checkpoint (it builds: ${Object.keys(described.graphs).join(', ')})`,
    );
  }
  await mkdir(dir, { recursive: true });
  const { path } = await writeOnnxModel(
    built.graph,
    join(dir, graphFileName(name, described.dtype)),
    options,
  );
  return path;
}
