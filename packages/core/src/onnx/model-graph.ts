import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { GraphBuilder, type OnnxGraph } from './graph.js';
import { type GraphDtype, Module } from './module.js';
import { GraphWeights } from './weights.js';

/**
 * The version of how core writes built graphs (the writer and the layer library): part of every build cache key
 * beside the class's own `checkpointGraphs.version`, and bumped whenever a change in core changes the graphs that
 * builders produce, so that graphs cached by an older core are built again.
 */
export const GRAPH_FORMAT_VERSION = 1;

export interface GraphBuildOptions {
  /** How weights are stored and computed (default 'fp32'); see `GraphDtype`. */
  readonly dtype?: GraphDtype;
}

/** A described graph and what the description left unread. */
export interface BuiltGraph {
  readonly graph: OnnxGraph;
  /**
   * Checkpoint keys the graph does not use, in checkpoint order: the caller decides whether they are an error (a
   * checkpoint of another architecture) or expected (a classification checkpoint loaded as its base model).
   */
  readonly unusedKeys: readonly string[];
}

/**
 * What a model package exports per model class: from the config and the checkpoint (keys as the class names
 * them, e.g. `vit.embeddings...` for ViTForImageClassification), the class's graph with exactly the inputs and
 * outputs of the ONNX graph the package runs. Nothing is read but the checkpoint's index: weights are read when
 * `writeOnnxModel` writes the graph, one at a time.
 */
export type ModelGraphBuilder<C> = (
  config: C,
  checkpoint: Checkpoint,
  options?: GraphBuildOptions,
) => BuiltGraph;

/**
 * Runs a package's graph description: a graph named `name`, a root `Module` over the checkpoint for the dtype, and
 * ModelProto metadata saying what built it (`ortvision.builder`, `ortvision.dtype`).
 *
 * @example
 * ```ts
 * export const buildViTModel: ModelGraphBuilder<ViTConfig> = (config, checkpoint, options) =>
 *   buildModelGraph('ViTModel', checkpoint, options, (root) => { ... root.graph.output(...) });
 * ```
 */
export function buildModelGraph(
  name: string,
  checkpoint: Checkpoint,
  options: GraphBuildOptions | undefined,
  describe: (root: Module) => void,
): BuiltGraph {
  const dtype = options?.dtype ?? 'fp32';
  const graph = new GraphBuilder(name);
  const weights = new GraphWeights(checkpoint);
  describe(Module.root(graph, weights, dtype));
  graph.setMetadata('ortvision.builder', name);
  graph.setMetadata('ortvision.dtype', dtype);
  return { graph: graph.build(), unusedKeys: weights.unusedKeys() };
}
