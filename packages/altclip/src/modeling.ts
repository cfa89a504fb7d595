import {
  CLIPDualTowerModel,
  type CLIPTextInputs,
  CLIPTextTowerModel,
  type CLIPVisionInputs,
  CLIPVisionTowerModel,
  type CheckpointGraphs,
  type ModelClassRegistry,
  OrtVisionError,
  type RunOptions,
  Tensor,
} from '@ortvision/core';
import { AltCLIPConfig } from './config.js';
import { ALTCLIP_GRAPH_VERSION, altclipGraphBuilders } from './graph.js';

// What each class builds from a checkpoint: every class reads AltCLIPModel's keys (BAAI/AltCLIP's
// pytorch_model.bin); a tower class leaves the other tower, its projection and logit_scale unread.
function checkpointGraphs(
  graphs: CheckpointGraphs<AltCLIPConfig>['graphs'],
  ignoreUnused: readonly RegExp[] = [],
): CheckpointGraphs<AltCLIPConfig> {
  return {
    version: ALTCLIP_GRAPH_VERSION,
    baseModelPrefix: 'altclip',
    expectsPrefix: false,
    ignoreUnused,
    graphs,
  };
}

/** The text tower's inputs: int64 [batch, seq] ids padded with `<pad>` (1); the mask defaults to all ones. */
export type AltCLIPTextInputs = CLIPTextInputs;

/** The image tower's input: float32 [batch, 3, image_size, image_size] from `CLIPImageProcessor`. */
export type AltCLIPVisionInputs = CLIPVisionInputs;

/** `AltCLIPModel.forward`'s inputs: a batch of texts and a batch of images (the two sizes are independent). */
export type AltCLIPInputs = AltCLIPTextInputs & AltCLIPVisionInputs;

/** `AltCLIPModel.forward`'s outputs, named as in Python. */
export type AltCLIPOutput = {
  /** [images, texts]: cosine similarity x exp(logit_scale). */
  logits_per_image: Tensor<'float32'>;
  /** [texts, images]: the transpose of `logits_per_image`. */
  logits_per_text: Tensor<'float32'>;
  /** [texts, projection_dim], L2-normalized. */
  text_embeds: Tensor<'float32'>;
  /** [images, projection_dim], L2-normalized. */
  image_embeds: Tensor<'float32'>;
};

/**
 * transformers' `AltCLIPModel` over three ONNX graphs: `onnx/model.onnx` (`forward`: texts x images ->
 * similarity logits and normalized embeddings), `onnx/text_model.onnx` (`getTextFeatures`) and
 * `onnx/vision_model.onnx` (`getImageFeatures`), the last two NOT normalized, as in Python. A folder needs the two
 * towers or `model.onnx` (eager loading loads the towers when present, else `model.onnx`; the other graphs load on
 * first use); with `loading: 'lazy'` nothing loads before first use.
 *
 * @example
 * ```ts
 * import { AltCLIPModel, AltCLIPProcessor } from '@ortvision/altclip';
 * const processor = await AltCLIPProcessor.fromPretrained('BAAI/AltCLIP');
 * const model = await AltCLIPModel.fromPretrained('BAAI/AltCLIP');
 * const inputs = await processor.process({ text: ['一只猫', 'a dog'], images: 'cats.png', padding: true });
 * const { logits_per_image } = await model.forward(inputs); // [1, 2]
 * const textFeatures = await model.getTextFeatures(inputs); // [2, projection_dim]
 * await model.dispose();
 * ```
 */
export class AltCLIPModel extends CLIPDualTowerModel<AltCLIPConfig> {
  static override readonly configClass = AltCLIPConfig;
  static override readonly checkpointGraphs = checkpointGraphs(altclipGraphBuilders.AltCLIPModel);
  static override readonly graphs = {
    model: 'model',
    text_model: 'text_model',
    vision_model: 'vision_model',
  };
  /**
   * Either the two towers (what the task helpers run; `model.onnx` then loads on first `forward` or `logitScale()`)
   * or the joint graph alone suffices, so a folder with only the towers loads eagerly without `loading: 'lazy'`.
   */
  static override readonly graphGroups = [['text_model', 'vision_model'], ['model']];

  #logitScale: Promise<number> | undefined;

  /** Runs `onnx/model.onnx` (transformers' `AltCLIPModel.forward`). */
  override async forward(inputs: AltCLIPInputs, options?: RunOptions): Promise<AltCLIPOutput> {
    const feeds = { ...this.textFeeds(inputs), pixel_values: this.pixelValues(inputs.pixel_values) };
    return (await this.runGraph('model', feeds, options)) as AltCLIPOutput;
  }

  /**
   * The trained `logit_scale` (raw, as Python's `model.logit_scale`; logits use its exp). It is a weight of
   * `onnx/model.onnx` that the graph does not output, so it is measured once, on first use: `model.onnx` runs on a
   * few fixed probe texts and images, and the scale is the least-squares ratio of its logits to the cosine
   * similarities of its normalized embeddings (exact to float32 rounding).
   */
  logitScale(): Promise<number> {
    if (!this.#logitScale) {
      this.#logitScale = this.#measureLogitScale();
      this.#logitScale.catch(() => {
        this.#logitScale = undefined;
      });
    }
    return this.#logitScale;
  }

  async #measureLogitScale(): Promise<number> {
    const { text_config, vision_config } = this.config;
    const bos = BigInt(text_config.bos_token_id ?? 0);
    const eos = BigInt(text_config.eos_token_id ?? 2);
    const pad = BigInt(text_config.pad_token_id ?? 1);
    const token = (fraction: number) => BigInt(Math.floor(text_config.vocab_size * fraction));
    const rows = [
      [bos, eos],
      [bos, token(0.37), eos],
      [bos, token(0.11), token(0.71), token(0.53), eos],
    ];
    const seq = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * seq).fill(pad);
    const mask = new BigInt64Array(rows.length * seq);
    rows.forEach((row, r) =>
      row.forEach((id, i) => {
        ids[r * seq + i] = id;
        mask[r * seq + i] = 1n;
      }),
    );
    const { num_channels: c, image_size: s } = vision_config;
    const pixels = new Float32Array(2 * c * s * s);
    for (let i = 0; i < pixels.length; i++)
      pixels[i] = 2 * Math.sin(i * (i < pixels.length / 2 ? 0.013 : 0.29));
    const out = await this.forward({
      input_ids: new Tensor('int64', ids, [rows.length, seq]),
      attention_mask: new Tensor('int64', mask, [rows.length, seq]),
      pixel_values: new Tensor('float32', pixels, [2, c, s, s]),
    });
    const [images, texts] = out.logits_per_image.dims as [number, number];
    const d = out.text_embeds.dims[1]!;
    let lc = 0;
    let cc = 0;
    for (let i = 0; i < images; i++) {
      for (let t = 0; t < texts; t++) {
        let cosine = 0;
        for (let k = 0; k < d; k++)
          cosine += out.image_embeds.data[i * d + k]! * out.text_embeds.data[t * d + k]!;
        lc += out.logits_per_image.data[i * texts + t]! * cosine;
        cc += cosine * cosine;
      }
    }
    if (!(cc > 1e-8)) {
      throw new OrtVisionError(
        'cannot measure logit_scale: the probe texts and images of model.onnx are orthogonal; pass logitScale explicitly',
      );
    }
    return Math.log(lc / cc);
  }
}

/**
 * AltCLIP's text tower with its projection (`onnx/text_model.onnx` = `AltCLIPModel.get_text_features`): ids ->
 * `text_embeds` [batch, projection_dim], not normalized. Loads only that graph.
 *
 * @example
 * ```ts
 * import { AltCLIPProcessor, AltCLIPTextModel } from '@ortvision/altclip';
 * const processor = await AltCLIPProcessor.fromPretrained('BAAI/AltCLIP');
 * const model = await AltCLIPTextModel.fromPretrained('BAAI/AltCLIP');
 * const { text_embeds } = await model.forward(await processor.process({ text: ['一只猫', '猫'], padding: true }));
 * ```
 */
export class AltCLIPTextModel extends CLIPTextTowerModel<AltCLIPConfig> {
  static override readonly configClass = AltCLIPConfig;
  static override readonly checkpointGraphs = checkpointGraphs(altclipGraphBuilders.AltCLIPTextModel, [
    /^vision_model\./,
    /^visual_projection\./,
    /^logit_scale$/,
  ]);
}

/**
 * AltCLIP's image tower with its projection (`onnx/vision_model.onnx` = `AltCLIPModel.get_image_features`):
 * pixel_values -> `image_embeds` [batch, projection_dim], not normalized. Loads only that graph.
 *
 * @example
 * ```ts
 * import { AltCLIPProcessor, AltCLIPVisionModel } from '@ortvision/altclip';
 * const processor = await AltCLIPProcessor.fromPretrained('BAAI/AltCLIP');
 * const model = await AltCLIPVisionModel.fromPretrained('BAAI/AltCLIP');
 * const { image_embeds } = await model.forward(await processor.process({ images: ['a.png', 'b.jpg'] }));
 * ```
 */
export class AltCLIPVisionModel extends CLIPVisionTowerModel<AltCLIPConfig> {
  static override readonly configClass = AltCLIPConfig;
  static override readonly checkpointGraphs = checkpointGraphs(altclipGraphBuilders.AltCLIPVisionModel, [
    /^text_model\./,
    /^text_projection\./,
    /^logit_scale$/,
  ]);
}

/**
 * The package's model classes by transformers architecture name (config.json's `architectures`): how tools find the
 * class of a model folder (`ortvision export`) without core depending on this package.
 */
export const modelClasses = {
  AltCLIPModel,
  AltCLIPTextModel,
  AltCLIPVisionModel,
} satisfies ModelClassRegistry;
