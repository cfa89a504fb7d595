import type { ModelGraphBuilder } from '../onnx/model-graph.js';

/**
 * How a model class's graphs are built from a transformers checkpoint: what `fromPretrained` needs when a folder or
 * Hub repository has the checkpoint (`model.safetensors`, `pytorch_model.bin`, sharded or not) but not the ONNX
 * graph for the requested dtype. A model class declares it once, as `static checkpointGraphs`; the builders live in
 * the package's `src/graph.ts`.
 *
 * The builders only describe graphs (they read the checkpoint's index, not its weights), so a load describes every
 * graph of the class once to check the checkpoint's keys as a whole (a key no graph reads is an error unless
 * `ignoreUnused` names it), then writes the graphs it needs, one weight at a time.
 *
 * @example
 * ```ts
 * class ViTForImageClassification extends PreTrainedModel<ViTConfig> {
 *   static override readonly configClass = ViTConfig;
 *   static override readonly checkpointGraphs: CheckpointGraphs<ViTConfig> = {
 *     version: VIT_GRAPH_VERSION,
 *     baseModelPrefix: 'vit',
 *     expectsPrefix: true,
 *     graphs: { model: buildViTForImageClassification },
 *   };
 * }
 * ```
 */
export interface CheckpointGraphs<C = unknown> {
  /**
   * Bumped whenever the graphs built for this class change (nodes, names, numerics), so that graphs cached from an
   * older build are rebuilt rather than reused.
   */
  readonly version: number;
  /** transformers' `base_model_prefix` of the class (`'vit'`, `'levit'`, `'clip'`); `''` when it has none. */
  readonly baseModelPrefix: string;
  /**
   * Whether the class's own keys start with `baseModelPrefix`: true for a head model holding the base model under
   * that attribute (`ViTForImageClassification.vit`), false for the base model itself (`ViTModel`).
   */
  readonly expectsPrefix: boolean;
  /**
   * Checkpoint keys no graph reads that are still fine (transformers' `_keys_to_ignore_on_load_unexpected`,
   * buffers the graph recomputes), as regular expressions matched anywhere in the key.
   */
  readonly ignoreUnused?: readonly (RegExp | string)[];
  /** Tied weights `save_pretrained` leaves out: model key -> the key whose value it shares. */
  readonly tiedWeights?: Readonly<Record<string, string>>;
  /** Graph key (as in the class's `graphs`: `model`, `text_model`, ...) -> its builder. */
  readonly graphs: Readonly<Record<string, ModelGraphBuilder<C>>>;
  /**
   * Graphs that only some checkpoints of the class hold the weights for: graph key -> a weight (model key) the
   * graph cannot be built without. A checkpoint lacking it does not build that graph: it is not described (the
   * weights only it reads must then be in `ignoreUnused`), and a load finds it absent, as a folder without that
   * ONNX file (`ModelNotFoundError`: `hasGraph` answers false, eager loading takes the next of `graphGroups`).
   * PerceiverModel's text graph needs the text embeddings, which image and flow checkpoints do not have.
   */
  readonly optionalGraphs?: Readonly<Record<string, string>>;
}
