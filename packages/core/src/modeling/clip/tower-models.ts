import { ModelNotFoundError } from '../../errors.js';
import type { NamedTensors, RunOptions } from '../../runtime/session.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { PretrainedConfig } from '../config.js';
import { PreTrainedModel } from '../pretrained-model.js';
import {
  type CLIPTextInputs,
  type CLIPTextLimits,
  type CLIPVisionInputs,
  type CLIPVisionLimits,
  clipPixelValues,
  clipTextFeeds,
  graphOutput,
} from './tower-inputs.js';

/** What the tower classes read of a config: the embedding width and the two towers' input limits. */
export type CLIPTowerConfig = PretrainedConfig & {
  readonly projection_dim: number;
  readonly text_config: CLIPTextLimits;
  readonly vision_config: CLIPVisionLimits;
};

/**
 * The CLIP family's model classes over the tower graphs `onnx/text_model.onnx` (ids -> `text_embeds`) and
 * `onnx/vision_model.onnx` (pixels -> `image_embeds`): inputs checked against the config before ONNX Runtime runs,
 * outputs checked as float32 [batch, projection_dim]. Subclasses (`CLIPTextTowerModel`, `CLIPVisionTowerModel`,
 * `CLIPDualTowerModel`, and the packages' own) add the public methods; `missingGraphHint` says where a folder
 * without a graph gets it.
 *
 * @example
 * ```ts
 * class MyModel extends CLIPTowerModel<MyConfig> {
 *   static override readonly configClass = MyConfig;
 *   static override readonly graphs = { text_model: 'text_model' };
 *   embed(inputs: CLIPTextInputs) {
 *     return this.textEmbeddings(inputs);
 *   }
 * }
 * ```
 */
export abstract class CLIPTowerModel<C extends CLIPTowerConfig> extends PreTrainedModel<C> {
  /** Appended to the `ModelNotFoundError` of a tower graph the folder lacks (how to get it), when set. */
  static readonly missingGraphHint: string | undefined = undefined;

  /** Runs one graph; a missing one is a `ModelNotFoundError` that carries the class's `missingGraphHint`. */
  protected async runTower(graph: string, feeds: NamedTensors, options?: RunOptions): Promise<NamedTensors> {
    try {
      return await this.runGraph(graph, feeds, options);
    } catch (error) {
      const hint = (this.constructor as typeof CLIPTowerModel).missingGraphHint;
      if (hint !== undefined && error instanceof ModelNotFoundError) {
        throw new ModelNotFoundError(`${error.message}; ${hint}`, { cause: error });
      }
      throw error;
    }
  }

  /** `input_ids` / `attention_mask` checked against the text tower (mask of ones when absent). */
  protected textFeeds(inputs: CLIPTextInputs): {
    input_ids: Tensor<'int64'>;
    attention_mask: Tensor<'int64'>;
  } {
    return clipTextFeeds(inputs, this.config.text_config);
  }

  /** `pixel_values` (or another image input, by `name`) checked against the image tower. */
  protected pixelValues(pixels: unknown, name = 'pixel_values'): Tensor<'float32'> {
    return clipPixelValues(pixels, this.config.vision_config, name);
  }

  /** `text_model.onnx`: `text_embeds` [batch, projection_dim] as the graph computes them. */
  protected async textEmbeddings(inputs: CLIPTextInputs, options?: RunOptions): Promise<Tensor<'float32'>> {
    const feeds = this.textFeeds(inputs);
    const outputs = await this.runTower('text_model', feeds, options);
    return this.#embeddings(outputs, 'text_embeds', 'text_model', feeds.input_ids.dims[0]!);
  }

  /** `vision_model.onnx`: `image_embeds` [batch, projection_dim] as the graph computes them. */
  protected async imageEmbeddings(
    inputs: CLIPVisionInputs,
    options?: RunOptions,
    name = 'pixel_values',
  ): Promise<Tensor<'float32'>> {
    const pixel_values = this.pixelValues(inputs.pixel_values, name);
    const outputs = await this.runTower('vision_model', { pixel_values }, options);
    return this.#embeddings(outputs, 'image_embeds', 'vision_model', pixel_values.dims[0]!);
  }

  #embeddings(outputs: NamedTensors, name: string, graph: string, batch: number): Tensor<'float32'> {
    return graphOutput(outputs, name, graph, {
      dims: [batch, this.config.projection_dim],
      meaning: 'batch, config projection_dim',
    });
  }
}

/**
 * A CLIP-family text tower with its projection (`onnx/text_model.onnx`, transformers' `get_text_features`): ids ->
 * `text_embeds` [batch, projection_dim] as the graph computes them. Loads only that graph. The packages name it as
 * transformers does (`CLIPSegTextModel`, `AltCLIPTextModel`, `Owlv2TextModel`).
 *
 * @example
 * ```ts
 * import { AltCLIPProcessor, AltCLIPTextModel } from '@ortvision/altclip'; // AltCLIPTextModel extends CLIPTextTowerModel
 * const processor = await AltCLIPProcessor.fromPretrained('BAAI/AltCLIP');
 * const model = await AltCLIPTextModel.fromPretrained('BAAI/AltCLIP');
 * const { text_embeds } = await model.forward(await processor.process({ text: ['一只猫', '猫'], padding: true }));
 * ```
 */
export abstract class CLIPTextTowerModel<C extends CLIPTowerConfig> extends CLIPTowerModel<C> {
  static override readonly graphs: Readonly<Record<string, string>> = { text_model: 'text_model' };
  static override readonly graphGroups: readonly (readonly string[])[] | undefined = [['text_model']];

  override async forward(
    inputs: CLIPTextInputs,
    options?: RunOptions,
  ): Promise<{ text_embeds: Tensor<'float32'> }> {
    return { text_embeds: await this.textEmbeddings(inputs, options) };
  }
}

/**
 * A CLIP-family image tower with its projection (`onnx/vision_model.onnx`, transformers' `get_image_features`):
 * pixel_values -> `image_embeds` [batch, projection_dim], not normalized. Loads only that graph.
 *
 * @example
 * ```ts
 * import { CLIPSegImageProcessor, CLIPSegVisionModel } from '@ortvision/clipseg'; // extends CLIPVisionTowerModel
 * const processor = await CLIPSegImageProcessor.fromPretrained('CIDAS/clipseg-rd64-refined');
 * const model = await CLIPSegVisionModel.fromPretrained('CIDAS/clipseg-rd64-refined');
 * const { image_embeds } = await model.forward(await processor.preprocess('cat.png'));
 * ```
 */
export abstract class CLIPVisionTowerModel<C extends CLIPTowerConfig> extends CLIPTowerModel<C> {
  static override readonly graphs: Readonly<Record<string, string>> = { vision_model: 'vision_model' };
  static override readonly graphGroups: readonly (readonly string[])[] | undefined = [['vision_model']];

  override async forward(
    inputs: CLIPVisionInputs,
    options?: RunOptions,
  ): Promise<{ image_embeds: Tensor<'float32'> }> {
    return { image_embeds: await this.imageEmbeddings(inputs, options) };
  }
}

/**
 * A CLIP-family model over both towers: `getTextFeatures` (`text_model.onnx`) and `getImageFeatures`
 * (`vision_model.onnx`), [batch, projection_dim] each, not normalized, as transformers' `get_text_features` /
 * `get_image_features`. Subclasses add `forward` (`CLIPSegModel`, `AltCLIPModel`).
 *
 * @example
 * ```ts
 * import { AltCLIPModel, AltCLIPProcessor } from '@ortvision/altclip'; // AltCLIPModel extends CLIPDualTowerModel
 * const processor = await AltCLIPProcessor.fromPretrained('BAAI/AltCLIP');
 * const model = await AltCLIPModel.fromPretrained('BAAI/AltCLIP');
 * const text = await model.getTextFeatures(await processor.process({ text: ['一只猫'] })); // [1, 768]
 * const image = await model.getImageFeatures(await processor.process({ images: 'cats.png' })); // [1, 768]
 * ```
 */
export abstract class CLIPDualTowerModel<C extends CLIPTowerConfig> extends CLIPTowerModel<C> {
  static override readonly graphs: Readonly<Record<string, string>> = {
    text_model: 'text_model',
    vision_model: 'vision_model',
  };
  static override readonly graphGroups: readonly (readonly string[])[] | undefined = [
    ['text_model', 'vision_model'],
  ];

  /** `get_text_features`: [batch, projection_dim] text embeddings, not normalized (`onnx/text_model.onnx`). */
  getTextFeatures(inputs: CLIPTextInputs, options?: RunOptions): Promise<Tensor<'float32'>> {
    return this.textEmbeddings(inputs, options);
  }

  /** `get_image_features`: [batch, projection_dim] image embeddings, not normalized (`onnx/vision_model.onnx`). */
  getImageFeatures(inputs: CLIPVisionInputs, options?: RunOptions): Promise<Tensor<'float32'>> {
    return this.imageEmbeddings(inputs, options);
  }
}
