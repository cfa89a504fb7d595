import {
  type CheckpointGraphs,
  InputShapeError,
  type ModelClassRegistry,
  PreTrainedModel,
  type RunOptions,
  type Tensor,
} from '@ortvision/core';
import { ViTConfig } from './config.js';
import {
  VIT_GRAPH_VERSION,
  buildViTForImageClassification,
  buildViTForMaskedImageModeling,
  buildViTModel,
} from './graph.js';

// The head models are built without ViTModel's pooler, as transformers builds them; a checkpoint saved from a
// ViTModel with pooler still loads into them, its pooler unused (transformers warns and carries on).
const ignorePooler = [/^vit\.pooler\./];

// Inputs are type aliases, not interfaces: aliases are assignable to the base class's `NamedTensors` record.

/** The ViT graphs take `pixel_values` float32 [batch, 3, image_size, image_size]. */
export type ViTInputs = { pixel_values: Tensor<'float32'> };

/**
 * transformers' `ViTModel`: `onnx/model.onnx` maps pixel_values to `last_hidden_state` [batch, 1 + patches,
 * hidden] and, when the checkpoint has a pooler, `pooler_output` [batch, hidden].
 *
 * @example
 * ```ts
 * import { ViTImageProcessor, ViTModel } from '@ortvision/vit';
 * const processor = await ViTImageProcessor.fromPretrained('google/vit-base-patch16-224-in21k');
 * const model = await ViTModel.fromPretrained('google/vit-base-patch16-224-in21k');
 * const { last_hidden_state } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class ViTModel extends PreTrainedModel<ViTConfig> {
  static override readonly configClass = ViTConfig;
  static override readonly checkpointGraphs: CheckpointGraphs<ViTConfig> = {
    version: VIT_GRAPH_VERSION,
    baseModelPrefix: 'vit',
    expectsPrefix: false,
    graphs: { model: buildViTModel },
  };

  override async forward(
    inputs: ViTInputs,
    options?: RunOptions,
  ): Promise<{ last_hidden_state: Tensor<'float32'>; pooler_output?: Tensor<'float32'> }> {
    const outputs = await super.forward({ pixel_values: inputs.pixel_values }, options);
    return outputs as { last_hidden_state: Tensor<'float32'>; pooler_output?: Tensor<'float32'> };
  }
}

/**
 * transformers' `ViTForImageClassification`: `onnx/model.onnx` maps pixel_values to `logits` [batch, num_labels];
 * `config.id2label` names the classes.
 *
 * @example
 * ```ts
 * import { ViTForImageClassification, ViTImageProcessor } from '@ortvision/vit';
 * const processor = await ViTImageProcessor.fromPretrained('google/vit-base-patch16-224');
 * const model = await ViTForImageClassification.fromPretrained('google/vit-base-patch16-224', { device: 'auto' });
 * const { logits } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export class ViTForImageClassification extends PreTrainedModel<ViTConfig> {
  static override readonly configClass = ViTConfig;
  static override readonly checkpointGraphs: CheckpointGraphs<ViTConfig> = {
    version: VIT_GRAPH_VERSION,
    baseModelPrefix: 'vit',
    expectsPrefix: true,
    ignoreUnused: ignorePooler,
    graphs: { model: buildViTForImageClassification },
  };

  override async forward(inputs: ViTInputs, options?: RunOptions): Promise<{ logits: Tensor<'float32'> }> {
    const outputs = await super.forward({ pixel_values: inputs.pixel_values }, options);
    return outputs as { logits: Tensor<'float32'> };
  }
}

/** Inputs of masked-image modeling: which patches are masked, per image. */
export type ViTMaskedImageModelingInputs = ViTInputs & {
  /** bool [batch, num_patches]: true where a patch is replaced by the mask token. */
  bool_masked_pos: Tensor<'bool'>;
};

/**
 * transformers' `ViTForMaskedImageModeling` (SimMIM): pixel_values and `bool_masked_pos` -> `reconstruction`
 * [batch, 3, H, W] in the processor's normalized space. `maskPatches` builds `bool_masked_pos`;
 * `reconstructionToImages` turns the reconstruction back into pictures.
 *
 * @example
 * ```ts
 * import { ViTForMaskedImageModeling, ViTImageProcessor, maskPatches, reconstructionToImages } from '@ortvision/vit';
 * const model = await ViTForMaskedImageModeling.fromPretrained('./vit-mim');
 * const processor = await ViTImageProcessor.fromPretrained('./vit-mim');
 * const { pixel_values } = await processor.preprocess('cat.png');
 * const bool_masked_pos = maskPatches(model.config.numPatches, { ratio: 0.5, seed: 1 });
 * const { reconstruction } = await model.forward({ pixel_values, bool_masked_pos });
 * const [picture] = reconstructionToImages(reconstruction, processor);
 * ```
 */
export class ViTForMaskedImageModeling extends PreTrainedModel<ViTConfig> {
  static override readonly configClass = ViTConfig;
  static override readonly checkpointGraphs: CheckpointGraphs<ViTConfig> = {
    version: VIT_GRAPH_VERSION,
    baseModelPrefix: 'vit',
    expectsPrefix: true,
    ignoreUnused: ignorePooler,
    graphs: { model: buildViTForMaskedImageModeling },
  };

  override async forward(
    inputs: ViTMaskedImageModelingInputs,
    options?: RunOptions,
  ): Promise<{ reconstruction: Tensor<'float32'> }> {
    const { pixel_values, bool_masked_pos } = inputs;
    const patches = this.config.numPatches;
    if (
      bool_masked_pos.rank !== 2 ||
      bool_masked_pos.dims[1] !== patches ||
      bool_masked_pos.dims[0] !== pixel_values.dims[0]
    ) {
      throw new InputShapeError(
        `bool_masked_pos must be [batch, ${patches}] for ${pixel_values.dims[0]} image(s) of ${this.config.image_size} px with ${this.config.patch_size} px patches, got [${bool_masked_pos.dims.join(', ')}]`,
      );
    }
    const outputs = await super.forward({ pixel_values, bool_masked_pos }, options);
    return outputs as { reconstruction: Tensor<'float32'> };
  }
}

/**
 * The package's model classes by transformers architecture name (config.json's `architectures`): how tools find the
 * class of a model folder (`ortvision export`) without core depending on this package.
 */
export const modelClasses = {
  ViTModel,
  ViTForImageClassification,
  ViTForMaskedImageModeling,
} satisfies ModelClassRegistry;
