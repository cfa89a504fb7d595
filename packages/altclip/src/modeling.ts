import {
  type CheckpointGraphs,
  InputShapeError,
  type ModelClassRegistry,
  OrtVisionError,
  PreTrainedModel,
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

// Inputs are type aliases, not interfaces: aliases are assignable to the base class's `NamedTensors` record.

/** The text tower's inputs: int64 [batch, seq] ids padded with `<pad>` (1); the mask defaults to all ones. */
export type AltCLIPTextInputs = { input_ids: Tensor<'int64'>; attention_mask?: Tensor<'int64'> };

/** The image tower's input: float32 [batch, 3, image_size, image_size] from `CLIPImageProcessor`. */
export type AltCLIPVisionInputs = { pixel_values: Tensor<'float32'> };

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

function textFeeds(
  config: AltCLIPConfig,
  { input_ids, attention_mask }: AltCLIPTextInputs,
): { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'> } {
  if (!(input_ids instanceof Tensor) || input_ids.dtype !== 'int64' || input_ids.rank !== 2) {
    throw new InputShapeError(
      `input_ids must be an int64 Tensor [batch, seq] (AltCLIPProcessor.process gives one), got ${describeTensor(input_ids)}`,
    );
  }
  const [batch, seq] = input_ids.dims as [number, number];
  const limit = config.text_config.maxSequenceLength;
  if (seq > limit) {
    throw new InputShapeError(
      `input_ids has ${seq} tokens per text, but the text tower has positions for at most ${limit} (max_position_embeddings ${config.text_config.max_position_embeddings}); tokenize with truncation: true`,
    );
  }
  if (attention_mask === undefined) {
    return {
      input_ids,
      attention_mask: new Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
    };
  }
  if (
    !(attention_mask instanceof Tensor) ||
    attention_mask.dtype !== 'int64' ||
    attention_mask.dims.join() !== input_ids.dims.join()
  ) {
    throw new InputShapeError(
      `attention_mask must be an int64 Tensor shaped like input_ids [${batch}, ${seq}], got ${describeTensor(attention_mask)}`,
    );
  }
  return { input_ids, attention_mask };
}

function pixelFeeds(
  config: AltCLIPConfig,
  { pixel_values }: AltCLIPVisionInputs,
): { pixel_values: Tensor<'float32'> } {
  const { num_channels, image_size } = config.vision_config;
  const ok =
    pixel_values instanceof Tensor &&
    pixel_values.dtype === 'float32' &&
    pixel_values.rank === 4 &&
    pixel_values.dims[1] === num_channels &&
    pixel_values.dims[2] === image_size &&
    pixel_values.dims[3] === image_size;
  if (!ok) {
    throw new InputShapeError(
      `pixel_values must be a float32 Tensor [batch, ${num_channels}, ${image_size}, ${image_size}] (vision_config.image_size), got ${describeTensor(pixel_values)}`,
    );
  }
  return { pixel_values };
}

function describeTensor(value: unknown): string {
  if (value instanceof Tensor) return `${value.dtype} [${value.dims.join(', ')}]`;
  return value === null ? 'null' : typeof value;
}

/** A tower's output checked as float32 [batch, projection_dim]: another model's graph in its place gives other names or shapes. */
function towerEmbeddings(
  embeds: Tensor | undefined,
  batch: number,
  config: AltCLIPConfig,
  graph: string,
  name: string,
): Tensor<'float32'> {
  const width = config.projection_dim;
  if (embeds?.dtype !== 'float32' || embeds.dims.join() !== [batch, width].join()) {
    throw new InputShapeError(
      `onnx/${graph}.onnx returned ${embeds ? `${name} ${embeds.dtype} [${embeds.dims.join(', ')}]` : `no '${name}'`}, expected float32 [${batch}, ${width}] (batch, config projection_dim)`,
    );
  }
  return embeds as Tensor<'float32'>;
}

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
export class AltCLIPModel extends PreTrainedModel<AltCLIPConfig> {
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
    const feeds = { ...textFeeds(this.config, inputs), ...pixelFeeds(this.config, inputs) };
    return (await super.forward(feeds, options)) as AltCLIPOutput;
  }

  /** `get_text_features`: [batch, projection_dim] text embeddings, not normalized (`onnx/text_model.onnx`). */
  async getTextFeatures(inputs: AltCLIPTextInputs, options?: RunOptions): Promise<Tensor<'float32'>> {
    const feeds = textFeeds(this.config, inputs);
    const { text_embeds } = await this.runGraph('text_model', feeds, options);
    return towerEmbeddings(text_embeds, feeds.input_ids.dims[0]!, this.config, 'text_model', 'text_embeds');
  }

  /** `get_image_features`: [batch, projection_dim] image embeddings, not normalized (`onnx/vision_model.onnx`). */
  async getImageFeatures(inputs: AltCLIPVisionInputs, options?: RunOptions): Promise<Tensor<'float32'>> {
    const feeds = pixelFeeds(this.config, inputs);
    const { image_embeds } = await this.runGraph('vision_model', feeds, options);
    return towerEmbeddings(
      image_embeds,
      feeds.pixel_values.dims[0]!,
      this.config,
      'vision_model',
      'image_embeds',
    );
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
export class AltCLIPTextModel extends PreTrainedModel<AltCLIPConfig> {
  static override readonly configClass = AltCLIPConfig;
  static override readonly checkpointGraphs = checkpointGraphs(altclipGraphBuilders.AltCLIPTextModel, [
    /^vision_model\./,
    /^visual_projection\./,
    /^logit_scale$/,
  ]);
  static override readonly graphs = { text_model: 'text_model' };

  override async forward(
    inputs: AltCLIPTextInputs,
    options?: RunOptions,
  ): Promise<{ text_embeds: Tensor<'float32'> }> {
    const outputs = await this.runGraph('text_model', textFeeds(this.config, inputs), options);
    return outputs as { text_embeds: Tensor<'float32'> };
  }
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
export class AltCLIPVisionModel extends PreTrainedModel<AltCLIPConfig> {
  static override readonly configClass = AltCLIPConfig;
  static override readonly checkpointGraphs = checkpointGraphs(altclipGraphBuilders.AltCLIPVisionModel, [
    /^text_model\./,
    /^text_projection\./,
    /^logit_scale$/,
  ]);
  static override readonly graphs = { vision_model: 'vision_model' };

  override async forward(
    inputs: AltCLIPVisionInputs,
    options?: RunOptions,
  ): Promise<{ image_embeds: Tensor<'float32'> }> {
    const outputs = await this.runGraph('vision_model', pixelFeeds(this.config, inputs), options);
    return outputs as { image_embeds: Tensor<'float32'> };
  }
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
