import { type CheckpointGraphs, PreTrainedModel, type RunOptions, type Tensor } from '@ortvision/core';
import { LevitConfig } from './config.js';
import {
  LEVIT_GRAPH_VERSION,
  buildLevitForImageClassification,
  buildLevitForImageClassificationWithTeacher,
  buildLevitModel,
} from './graph.js';

// attention_bias_idxs is a buffer that checkpoints saved by older transformers versions carry; the graphs compute
// the same table from the config (graph.ts, attentionBiasIndices), so a stored copy is left unread.
const ignoreBiasIndices = /(^|\.)attention_bias_idxs$/;

/** LeViT graphs take `pixel_values` float32 [batch, 3, image_size, image_size]; the size is fixed by the graph. */
export type LevitInputs = { pixel_values: Tensor<'float32'> };

/**
 * transformers' `LevitModel`: pixel_values -> `last_hidden_state` [batch, tokens, hidden_sizes[-1]] and
 * `pooler_output` (the mean over tokens, computed in the graph).
 *
 * @example
 * ```ts
 * import { LevitImageProcessor, LevitModel } from '@ortvision/levit';
 * const processor = await LevitImageProcessor.fromPretrained('facebook/levit-256');
 * const model = await LevitModel.fromPretrained('facebook/levit-256');
 * const { pooler_output } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class LevitModel extends PreTrainedModel<LevitConfig> {
  static override readonly configClass = LevitConfig;
  static override readonly checkpointGraphs: CheckpointGraphs<LevitConfig> = {
    version: LEVIT_GRAPH_VERSION,
    baseModelPrefix: 'levit',
    expectsPrefix: false,
    ignoreUnused: [ignoreBiasIndices],
    graphs: { model: buildLevitModel },
  };

  override async forward(
    inputs: LevitInputs,
    options?: RunOptions,
  ): Promise<{ last_hidden_state: Tensor<'float32'>; pooler_output: Tensor<'float32'> }> {
    const outputs = await super.forward({ pixel_values: inputs.pixel_values }, options);
    return outputs as { last_hidden_state: Tensor<'float32'>; pooler_output: Tensor<'float32'> };
  }
}

/**
 * transformers' `LevitForImageClassification`: pixel_values -> `logits` [batch, num_labels].
 *
 * @example
 * ```ts
 * import { LevitForImageClassification, LevitImageProcessor } from '@ortvision/levit';
 * const model = await LevitForImageClassification.fromPretrained('./levit-local');
 * const processor = await LevitImageProcessor.fromPretrained('./levit-local');
 * const { logits } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class LevitForImageClassification extends PreTrainedModel<LevitConfig> {
  static override readonly configClass = LevitConfig;
  static override readonly checkpointGraphs: CheckpointGraphs<LevitConfig> = {
    version: LEVIT_GRAPH_VERSION,
    baseModelPrefix: 'levit',
    expectsPrefix: true,
    // The Hub's facebook/levit-* checkpoints are distilled (WithTeacher); transformers' docs load them into this
    // class too, leaving the distillation head unread with a warning.
    ignoreUnused: [ignoreBiasIndices, /^classifier_distill\./],
    graphs: { model: buildLevitForImageClassification },
  };

  override async forward(inputs: LevitInputs, options?: RunOptions): Promise<{ logits: Tensor<'float32'> }> {
    const outputs = await super.forward({ pixel_values: inputs.pixel_values }, options);
    return outputs as { logits: Tensor<'float32'> };
  }
}

/**
 * transformers' `LevitForImageClassificationWithTeacher` (the distilled checkpoints such as facebook/levit-256):
 * `logits` is the mean of the classification head's `cls_logits` and the distillation head's
 * `distillation_logits`; all three are returned, and classification ranks `logits`.
 *
 * @example
 * ```ts
 * import { LevitForImageClassificationWithTeacher, LevitImageProcessor } from '@ortvision/levit';
 * const model = await LevitForImageClassificationWithTeacher.fromPretrained('facebook/levit-256');
 * const processor = await LevitImageProcessor.fromPretrained('facebook/levit-256');
 * const { logits, cls_logits, distillation_logits } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class LevitForImageClassificationWithTeacher extends PreTrainedModel<LevitConfig> {
  static override readonly configClass = LevitConfig;
  static override readonly checkpointGraphs: CheckpointGraphs<LevitConfig> = {
    version: LEVIT_GRAPH_VERSION,
    baseModelPrefix: 'levit',
    expectsPrefix: true,
    ignoreUnused: [ignoreBiasIndices],
    graphs: { model: buildLevitForImageClassificationWithTeacher },
  };

  override async forward(
    inputs: LevitInputs,
    options?: RunOptions,
  ): Promise<{
    logits: Tensor<'float32'>;
    cls_logits: Tensor<'float32'>;
    distillation_logits: Tensor<'float32'>;
  }> {
    const outputs = await super.forward({ pixel_values: inputs.pixel_values }, options);
    return outputs as {
      logits: Tensor<'float32'>;
      cls_logits: Tensor<'float32'>;
      distillation_logits: Tensor<'float32'>;
    };
  }
}
