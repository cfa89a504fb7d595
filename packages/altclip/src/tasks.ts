import {
  type BatchedTaskFunction,
  type Image,
  type ImageInput,
  InvalidArgumentError,
  type LabelScore,
  LruCache,
  type TaskFunction,
  type TaskHelper,
  type TaskLoadOptions,
  Tensor,
  type TextEmbeddingCacheOptions,
  batchedTaskCall,
  checkFinite,
  checkFlag,
  checkInteger,
  defineTask,
  describeValue,
  imageInputs,
  l2Normalize,
  optionNames,
  prepareInputs,
  taskCall,
  textEmbeddingCacheSize,
  textInputs,
} from '@ortvision/core';
import { AltCLIPModel } from './modeling.js';
import {
  type AltCLIPSimilarity,
  checkLogitScale,
  logitsFromNormalized,
  rankCandidateLabels,
  similarityFromEmbeddings,
} from './post-processing.js';
import { type AltCLIPImages, AltCLIPProcessor } from './processing.js';

/** The AltCLIP task helpers' own loading options. */
export interface AltCLIPTaskSettings extends TextEmbeddingCacheOptions {
  /**
   * The raw `logit_scale` (Python's `model.logit_scale`): the natural LOG of the scale, 4.6052 = ln 100 for
   * BAAI/AltCLIP (not 100). By default it is measured once from `onnx/model.onnx` (`AltCLIPModel.logitScale()`);
   * give it to run without that graph.
   */
  logitScale?: number;
  /**
   * How many text embeddings to keep, by token ids, for reuse across calls (default 4096; 0 keeps none; least
   * recently used dropped first).
   */
  textEmbeddingCacheSize?: number;
  /**
   * @deprecated the old name of `textEmbeddingCacheSize` (one name across the CLIP family): still works, warns once
   * (a `DeprecationWarning`); giving both is an `InvalidArgumentError`.
   */
  textCacheSize?: number;
}

/** The keys of `AltCLIPTaskSettings`. */
export const ALTCLIP_TASK_SETTINGS = optionNames<AltCLIPTaskSettings>({
  logitScale: true,
  textEmbeddingCacheSize: true,
  textCacheSize: true,
});

/** The parts the AltCLIP task helpers load beside the model. */
export interface AltCLIPTaskParts {
  /** The processor; by default read from the model's folder or Hub id. */
  processor: AltCLIPProcessor;
}

/** Loading options of every AltCLIP task helper: the model's, an optional `processor`, and the settings above. */
export type AltCLIPTaskOptions = TaskLoadOptions<AltCLIPTaskParts, AltCLIPTaskSettings>;

/** Options of the calls that embed texts. */
export interface TextEmbeddingOptions {
  /**
   * Cut texts longer than the text tower's positions (default true, so long labels work; false makes such a text
   * an `InputShapeError`, as Python's pipeline fails on it).
   */
  truncation?: boolean;
}

/** The keys of `TextEmbeddingOptions`. */
export const TEXT_EMBEDDING_OPTIONS = optionNames<TextEmbeddingOptions>({ truncation: true });

/** Texts embedded per run of `text_model.onnx`, so that thousands of labels do not make one giant batch. */
const TEXT_BATCH = 64;

/**
 * Python's `hypothesis_template.format(label)` for the one positional argument the pipeline passes: `{}` / `{0}`
 * become the label, `{{` / `}}` are literal braces; anything else Python would reject is rejected.
 */
export function formatHypothesis(template: string, label: string): string {
  if (typeof template !== 'string') {
    throw new InvalidArgumentError(
      `hypothesisTemplate must be a string such as "This is a photo of {}.", got ${describeValue(template)}`,
    );
  }
  let out = '';
  let automatic = 0;
  let manual = false;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i]!;
    if ((ch === '{' || ch === '}') && template[i + 1] === ch) {
      out += ch;
      i++;
    } else if (ch === '{') {
      const close = template.indexOf('}', i);
      const field = close < 0 ? undefined : template.slice(i + 1, close);
      const index = field === '' ? automatic++ : field === '0' ? 0 : -1;
      if (field === '0') manual = true;
      if (index !== 0 || (manual && automatic > 0)) {
        throw new InvalidArgumentError(
          `hypothesisTemplate ${JSON.stringify(template)}: only "{}" (once) or "{0}" can stand for the label; write "{{" and "}}" for literal braces`,
        );
      }
      out += label;
      i = close;
    } else if (ch === '}') {
      throw new InvalidArgumentError(
        `hypothesisTemplate ${JSON.stringify(template)} has a single "}" (write "}}" for a literal one)`,
      );
    } else {
      out += ch;
    }
  }
  return out;
}

/**
 * The state the AltCLIP task helpers share: the model, its processor, and text embeddings kept by token ids, so a
 * label set is embedded once and reused while images change (prompts that tokenize alike share one embedding,
 * which keeps their scores exactly tied, as in Python).
 */
class AltCLIPEmbedder {
  readonly #model: AltCLIPModel;
  readonly #processor: AltCLIPProcessor;
  readonly #cache: LruCache<string, Float32Array>;
  readonly #maxLength: number;
  #logitScale: number | undefined;

  constructor(model: AltCLIPModel, processor: AltCLIPProcessor, settings: AltCLIPTaskSettings) {
    this.#model = model;
    this.#processor = processor;
    const { logitScale } = settings;
    this.#logitScale = logitScale === undefined ? undefined : checkLogitScale(logitScale);
    this.#cache = new LruCache(textEmbeddingCacheSize(settings, 4096, ['textCacheSize']));
    // With truncation, texts longer than the text tower's positions are cut (Python would fail on them instead).
    this.#maxLength = Math.min(
      processor.tokenizer.modelMaxLength,
      model.config.text_config.maxSequenceLength,
    );
  }

  async logitScale(): Promise<number> {
    this.#logitScale ??= checkLogitScale(await this.#model.logitScale());
    return this.#logitScale;
  }

  /** L2-normalized text embeddings [texts, d], in order. */
  async embedTexts(
    texts: readonly string[],
    { truncation = true }: TextEmbeddingOptions = {},
  ): Promise<Tensor<'float32'>> {
    const { tokenizer } = this.#processor;
    const options = checkFlag(truncation, 'truncation', true)
      ? ({ truncation: true, maxLength: this.#maxLength } as const)
      : {};
    const keys = texts.map((text) => tokenizer.encode(text, options).input_ids.data.join(','));
    const found = new Map<string, Float32Array>();
    const missing: string[] = [];
    const missingKeys: string[] = [];
    keys.forEach((key, i) => {
      const cached = this.#cache.get(key);
      if (cached) {
        found.set(key, cached);
      } else if (!found.has(key)) {
        found.set(key, new Float32Array(0)); // filled below
        missing.push(texts[i]!);
        missingKeys.push(key);
      }
    });
    for (let start = 0; start < missing.length; start += TEXT_BATCH) {
      const batch = tokenizer.encode(missing.slice(start, start + TEXT_BATCH), { ...options, padding: true });
      const embeds = await this.#model.getTextFeatures(batch);
      checkFinite(embeds.data, 'the text embeddings');
      const normalized = l2Normalize(embeds);
      const d = normalized.dims[1]!;
      missingKeys.slice(start, start + TEXT_BATCH).forEach((key, row) => {
        found.set(key, normalized.data.slice(row * d, (row + 1) * d));
      });
    }
    for (const key of keys) this.#cache.set(key, found.get(key)!);
    const d = found.get(keys[0]!)!.length;
    const out = new Float32Array(texts.length * d);
    keys.forEach((key, i) => out.set(found.get(key)!, i * d));
    return new Tensor('float32', out, [texts.length, d]);
  }

  /** L2-normalized image embeddings [images, d]: one run of `vision_model.onnx` for the whole list. */
  async embedImages(images: readonly Image[]): Promise<Tensor<'float32'>> {
    const { pixel_values } = await this.#processor.process({ images });
    const embeds = await this.#model.getImageFeatures({ pixel_values });
    checkFinite(embeds.data, 'the image embeddings');
    return l2Normalize(embeds);
  }
}

/** One AltCLIP task helper: the model, its processor and the shared embedder, then the task's own call. */
function altclipTask<F extends (...args: never[]) => Promise<unknown>>(
  name: string,
  create: (embedder: AltCLIPEmbedder) => F,
): TaskHelper<AltCLIPModel, AltCLIPTaskParts, AltCLIPTaskSettings, F> {
  return defineTask({
    name,
    model: (id, options) => AltCLIPModel.fromPretrained(id, options),
    parts: { processor: (id, options) => AltCLIPProcessor.fromPretrained(id, options) },
    options: ALTCLIP_TASK_SETTINGS,
    create: ({ model, parts: { processor }, options }) =>
      create(new AltCLIPEmbedder(model, processor, options)),
  });
}

/** A non-empty list of texts: one string, or an array of strings. */
function checkTextList(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      `${name} must be a string or an array of strings, got ${describeValue(value)}`,
    );
  }
  if (list.length === 0) throw new InvalidArgumentError(`${name} is empty: give at least one text`);
  list.forEach((item, i) => {
    if (typeof item !== 'string')
      throw new InvalidArgumentError(`${name}[${i}] must be a string, got ${describeValue(item)}`);
  });
  return list as string[];
}

export interface ZeroShotImageClassificationOptions extends TextEmbeddingOptions {
  /** Python's `hypothesis_template`: `{}` stands for the label (default `"This is a photo of {}."`). */
  hypothesisTemplate?: string;
  /** Keep the best `topK` labels (default: all, as the pipeline returns them). */
  topK?: number;
}

/** The keys of `ZeroShotImageClassificationOptions`. */
export const ZERO_SHOT_IMAGE_CLASSIFICATION_OPTIONS = optionNames<ZeroShotImageClassificationOptions>({
  hypothesisTemplate: true,
  topK: true,
  truncation: true,
});

/** Zero-shot classification: one image gives its ranking, a list of images one ranking per image. */
export type ZeroShotImageClassificationFunction = BatchedTaskFunction<
  ImageInput,
  [candidateLabels: readonly string[]],
  ZeroShotImageClassificationOptions,
  LabelScore[]
>;

/**
 * The zero-shot-image-classification pipeline: an image and candidate labels in any language the tokenizer covers
 * -> `[{ score, label }]` over all labels, best first (softmax over the labels; ties keep the labels' order). A
 * list of images gives one list per image. Label embeddings are computed once per label and reused across calls.
 *
 * @example
 * ```ts
 * import { zeroShotImageClassification } from '@ortvision/altclip';
 * const classify = await zeroShotImageClassification('BAAI/AltCLIP');
 * await classify('cats.png', ['猫', '狗', 'a remote control']);
 * await classify('cats.png', ['猫', '狗'], { hypothesisTemplate: '这是一张{}的照片。', topK: 1 });
 * await classify.dispose();
 * ```
 */
export const zeroShotImageClassification = altclipTask(
  'zeroShotImageClassification',
  (embedder): ZeroShotImageClassificationFunction =>
    batchedTaskCall({
      name: 'zeroShotImageClassification',
      input: imageInputs,
      arity: 1,
      options: ZERO_SHOT_IMAGE_CLASSIFICATION_OPTIONS,
      run: async (images, [candidateLabels]: [readonly string[]], options) => {
        const { hypothesisTemplate = 'This is a photo of {}.', topK, truncation } = options;
        if (!Array.isArray(candidateLabels)) {
          throw new InvalidArgumentError(
            `candidateLabels must be an array of strings (e.g. ['cat', '狗']), got ${describeValue(candidateLabels)}`,
          );
        }
        const labels = checkTextList(candidateLabels, 'candidateLabels');
        if (topK !== undefined) checkInteger(topK, 'topK', { min: 1 });
        const prompts = labels.map((label) => formatHypothesis(hypothesisTemplate, label));
        const [text, image, logitScale] = await Promise.all([
          embedder.embedTexts(prompts, { truncation }),
          embedder.embedImages(images),
          embedder.logitScale(),
        ]);
        return rankCandidateLabels(
          logitsFromNormalized(text, image, logitScale),
          labels,
          topK ?? labels.length,
        );
      },
    }),
);

/** Text embeddings: texts (one string or a list) -> L2-normalized [texts, projection_dim]. */
export type EmbedTextFunction = TaskFunction<
  [texts: string | readonly string[]],
  TextEmbeddingOptions,
  Tensor<'float32'>
>;

/**
 * Text embeddings for retrieval: texts -> L2-normalized [texts, projection_dim] (`text_model.onnx`), so a dot
 * product with `embedImage`'s vectors is the cosine similarity. Repeated texts come from a cache.
 *
 * @example
 * ```ts
 * import { embedText } from '@ortvision/altclip';
 * const embed = await embedText('BAAI/AltCLIP');
 * const vectors = await embed(['一只猫', 'a cat', '猫の写真']); // Tensor [3, 768]
 * ```
 */
export const embedText = altclipTask(
  'embedText',
  (embedder): EmbedTextFunction =>
    taskCall({
      name: 'embedText',
      arity: 1,
      options: TEXT_EMBEDDING_OPTIONS,
      run: ([texts]: [string | readonly string[]], options) =>
        embedder.embedTexts(checkTextList(texts, 'texts'), options),
    }),
);

/** Image embeddings: image(s) -> L2-normalized [images, projection_dim]. */
export type EmbedImageFunction = TaskFunction<[images: AltCLIPImages], object, Tensor<'float32'>>;

/**
 * Image embeddings for retrieval: image(s) -> L2-normalized [images, projection_dim] (`vision_model.onnx`).
 *
 * @example
 * ```ts
 * import { embedImage } from '@ortvision/altclip';
 * const embed = await embedImage('BAAI/AltCLIP');
 * const vectors = await embed(['a.jpg', 'b.png']); // Tensor [2, 768]
 * ```
 */
export const embedImage = altclipTask(
  'embedImage',
  (embedder): EmbedImageFunction =>
    taskCall({
      name: 'embedImage',
      arity: 1,
      options: [],
      run: async ([images]: [AltCLIPImages], _options, context) =>
        embedder.embedImages((await prepareInputs(imageInputs, images, context, 'embedImage')).items),
    }),
);

/** Similarity: images x texts -> logits, probabilities and normalized embeddings. */
export type SimilarityFunction = TaskFunction<
  [images: AltCLIPImages, texts: string | readonly string[]],
  TextEmbeddingOptions,
  AltCLIPSimilarity
>;

/**
 * Image-text similarity: images x texts -> `logits_per_image` [images, texts], `logits_per_text`,
 * `probs_per_image` (softmax over the texts) and the normalized embeddings, as `AltCLIPModel.forward` gives them,
 * from the two towers (text embeddings cached).
 *
 * @example
 * ```ts
 * import { similarity } from '@ortvision/altclip';
 * const score = await similarity('BAAI/AltCLIP');
 * const { probs_per_image } = await score(['cats.png', 'dog.jpg'], ['猫', '狗']); // [2, 2]
 * ```
 */
export const similarity = altclipTask(
  'similarity',
  (embedder): SimilarityFunction =>
    taskCall({
      name: 'similarity',
      arity: 2,
      options: TEXT_EMBEDDING_OPTIONS,
      run: async ([images, texts]: [AltCLIPImages, string | readonly string[]], options, context) => {
        const list = checkTextList(texts, 'texts');
        const { items } = await prepareInputs(imageInputs, images, context, 'similarity');
        const [text, image, logitScale] = await Promise.all([
          embedder.embedTexts(list, options),
          embedder.embedImages(items),
          embedder.logitScale(),
        ]);
        return similarityFromEmbeddings(text, image, { logitScale });
      },
    }),
);
