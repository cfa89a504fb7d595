import {
  type ImageInput,
  InvalidArgumentError,
  type LabelScore,
  type ModelSource,
  type Pipeline,
  type PretrainedOptions,
  Tensor,
  l2Normalize,
  makePipeline,
  resolveModel,
} from '@ortvision/core';
import { AltCLIPModel } from './modeling.js';
import {
  type AltCLIPSimilarity,
  logitsFromNormalized,
  rankCandidateLabels,
  similarityFromEmbeddings,
} from './post-processing.js';
import { type AltCLIPImages, AltCLIPProcessor } from './processing.js';

export interface AltCLIPTaskOptions extends PretrainedOptions {
  /** The processor; by default read from the model's folder or Hub id. */
  processor?: AltCLIPProcessor;
  /**
   * The raw `logit_scale` (Python's `model.logit_scale`; 4.6052 = ln 100 for BAAI/AltCLIP). By default it is
   * measured once from `onnx/model.onnx` (`AltCLIPModel.logitScale()`); give it to run without that graph.
   */
  logitScale?: number;
  /** How many text embeddings to keep, by token ids, for reuse across calls (default 4096; 0 keeps none). */
  textCacheSize?: number;
}

/** Texts embedded per run of `text_model.onnx`, so that thousands of labels do not make one giant batch. */
const TEXT_BATCH = 64;

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'string' ? JSON.stringify(value) : `${typeof value} ${String(value)}`.slice(0, 60);
}

function checkTextList(value: unknown, name: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list))
    throw new InvalidArgumentError(`${name} must be a string or an array of strings, got ${describe(value)}`);
  if (list.length === 0) throw new InvalidArgumentError(`${name} is empty: give at least one text`);
  list.forEach((item, i) => {
    if (typeof item !== 'string')
      throw new InvalidArgumentError(`${name}[${i}] must be a string, got ${describe(item)}`);
  });
  return list as string[];
}

function imageList(images: AltCLIPImages): { list: ImageInput[]; single: boolean } {
  const single = !Array.isArray(images);
  const list = single ? [images as ImageInput] : [...(images as readonly ImageInput[])];
  if (list.length === 0) throw new InvalidArgumentError('images is an empty list: give at least one image');
  return { list, single };
}

/**
 * Python's `hypothesis_template.format(label)` for the one positional argument the pipeline passes: `{}` / `{0}`
 * become the label, `{{` / `}}` are literal braces; anything else Python would reject is rejected.
 */
export function formatHypothesis(template: string, label: string): string {
  if (typeof template !== 'string') {
    throw new InvalidArgumentError(
      `hypothesisTemplate must be a string such as "This is a photo of {}.", got ${describe(template)}`,
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
  readonly #cache = new Map<string, Float32Array>();
  readonly #cacheSize: number;
  readonly #maxLength: number;
  #logitScale: number | undefined;

  constructor(model: AltCLIPModel, processor: AltCLIPProcessor, options: AltCLIPTaskOptions) {
    this.#model = model;
    this.#processor = processor;
    const { logitScale, textCacheSize = 4096 } = options;
    if (logitScale !== undefined && (typeof logitScale !== 'number' || !Number.isFinite(logitScale))) {
      throw new InvalidArgumentError(
        `logitScale must be a finite number (the raw logit_scale), got ${describe(logitScale)}`,
      );
    }
    if (!Number.isInteger(textCacheSize) || textCacheSize < 0) {
      throw new InvalidArgumentError(`textCacheSize must be an integer >= 0, got ${describe(textCacheSize)}`);
    }
    this.#logitScale = logitScale;
    this.#cacheSize = textCacheSize;
    // Texts longer than the text tower's positions are cut (Python would fail on them instead).
    this.#maxLength = Math.min(
      processor.tokenizer.modelMaxLength,
      model.config.text_config.maxSequenceLength,
    );
  }

  async logitScale(): Promise<number> {
    this.#logitScale ??= await this.#model.logitScale();
    return this.#logitScale;
  }

  /** L2-normalized text embeddings [texts, d], in order. */
  async embedTexts(texts: readonly string[]): Promise<Tensor<'float32'>> {
    const { tokenizer } = this.#processor;
    const options = { truncation: true, maxLength: this.#maxLength } as const;
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
      const embeds = l2Normalize(await this.#model.getTextFeatures(batch));
      const d = embeds.dims[1]!;
      missingKeys.slice(start, start + TEXT_BATCH).forEach((key, row) => {
        found.set(key, embeds.data.slice(row * d, (row + 1) * d));
      });
    }
    for (const key of keys) this.#remember(key, found.get(key)!);
    const d = found.get(keys[0]!)!.length;
    const out = new Float32Array(texts.length * d);
    keys.forEach((key, i) => out.set(found.get(key)!, i * d));
    return new Tensor('float32', out, [texts.length, d]);
  }

  /** L2-normalized image embeddings [images, d]: one run of `vision_model.onnx` for the whole list. */
  async embedImages(images: readonly ImageInput[]): Promise<Tensor<'float32'>> {
    const { pixel_values } = await this.#processor.process({ images });
    return l2Normalize(await this.#model.getImageFeatures({ pixel_values }));
  }

  #remember(key: string, embedding: Float32Array): void {
    if (this.#cacheSize === 0) return;
    // Map keeps insertion order: re-inserting marks the entry as recently used; the oldest goes first.
    this.#cache.delete(key);
    this.#cache.set(key, embedding);
    if (this.#cache.size > this.#cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
  }
}

async function loadEmbedder(
  source: ModelSource<AltCLIPModel>,
  { processor, ...options }: AltCLIPTaskOptions,
): Promise<{ embedder: AltCLIPEmbedder; dispose: () => Promise<void> }> {
  const loaded = await resolveModel(source, (id, o) => AltCLIPModel.fromPretrained(id, o), options);
  try {
    const chosen = processor ?? (await AltCLIPProcessor.fromPretrained(loaded.model.nameOrPath, options));
    return {
      embedder: new AltCLIPEmbedder(loaded.model, chosen, options),
      dispose: async () => {
        if (loaded.owned) await loaded.model.dispose();
      },
    };
  } catch (error) {
    if (loaded.owned) await loaded.model.dispose();
    throw error;
  }
}

export interface ZeroShotImageClassificationOptions {
  /** Python's `hypothesis_template`: `{}` stands for the label (default `"This is a photo of {}."`). */
  hypothesisTemplate?: string;
  /** Keep the best `topK` labels (default: all, as the pipeline returns them). */
  topK?: number;
}

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
export async function zeroShotImageClassification(
  model: ModelSource<AltCLIPModel>,
  options: AltCLIPTaskOptions = {},
): Promise<
  Pipeline<
    (
      images: AltCLIPImages,
      candidateLabels: readonly string[],
      options?: ZeroShotImageClassificationOptions,
    ) => Promise<LabelScore[] | LabelScore[][]>
  >
> {
  const { embedder, dispose } = await loadEmbedder(model, options);
  const run = async (
    images: AltCLIPImages,
    candidateLabels: readonly string[],
    { hypothesisTemplate = 'This is a photo of {}.', topK }: ZeroShotImageClassificationOptions = {},
  ): Promise<LabelScore[] | LabelScore[][]> => {
    if (!Array.isArray(candidateLabels)) {
      throw new InvalidArgumentError(
        `candidateLabels must be an array of strings (e.g. ['cat', '狗']), got ${describe(candidateLabels)}`,
      );
    }
    const labels = checkTextList(candidateLabels, 'candidateLabels');
    if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
      throw new InvalidArgumentError(`topK must be an integer >= 1, got ${describe(topK)}`);
    }
    const prompts = labels.map((label) => formatHypothesis(hypothesisTemplate, label));
    const { list, single } = imageList(images);
    const [text, image, logitScale] = await Promise.all([
      embedder.embedTexts(prompts),
      embedder.embedImages(list),
      embedder.logitScale(),
    ]);
    const ranked = rankCandidateLabels(
      logitsFromNormalized(text, image, logitScale),
      labels,
      topK ?? labels.length,
    );
    return single ? ranked[0]! : ranked;
  };
  return makePipeline(run, dispose);
}

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
export async function embedText(
  model: ModelSource<AltCLIPModel>,
  options: AltCLIPTaskOptions = {},
): Promise<Pipeline<(texts: string | readonly string[]) => Promise<Tensor<'float32'>>>> {
  const { embedder, dispose } = await loadEmbedder(model, options);
  return makePipeline(
    async (texts: string | readonly string[]) => embedder.embedTexts(checkTextList(texts, 'texts')),
    dispose,
  );
}

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
export async function embedImage(
  model: ModelSource<AltCLIPModel>,
  options: AltCLIPTaskOptions = {},
): Promise<Pipeline<(images: AltCLIPImages) => Promise<Tensor<'float32'>>>> {
  const { embedder, dispose } = await loadEmbedder(model, options);
  return makePipeline(async (images: AltCLIPImages) => embedder.embedImages(imageList(images).list), dispose);
}

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
export async function similarity(
  model: ModelSource<AltCLIPModel>,
  options: AltCLIPTaskOptions = {},
): Promise<
  Pipeline<(images: AltCLIPImages, texts: string | readonly string[]) => Promise<AltCLIPSimilarity>>
> {
  const { embedder, dispose } = await loadEmbedder(model, options);
  return makePipeline(async (images: AltCLIPImages, texts: string | readonly string[]) => {
    const list = checkTextList(texts, 'texts');
    const [text, image, logitScale] = await Promise.all([
      embedder.embedTexts(list),
      embedder.embedImages(imageList(images).list),
      embedder.logitScale(),
    ]);
    return similarityFromEmbeddings(text, image, { logitScale });
  }, dispose);
}
