import {
  type ClassificationFunction,
  type ClassifyOptions,
  type ImageClassificationTask,
  type ImageInput,
  type ImageTaskOptions,
  type ImagesInput,
  InputShapeError,
  InvalidArgumentError,
  type LabelScore,
  type ModelSource,
  type Pipeline,
  type PretrainedOptions,
  type Tensor,
  classifyLogits,
  imageClassificationTask,
  loadImage,
  makePipeline,
  resolveModel,
} from '@ortvision/core';
import { PerceiverConfig } from './config.js';
import { PerceiverImageProcessor } from './image-processing.js';
import {
  type PerceiverAutoencoding,
  PerceiverForImageClassificationConvProcessing,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationLearned,
  PerceiverForMaskedLM,
  PerceiverForMultimodalAutoencoding,
  PerceiverForOpticalFlow,
  PerceiverForSequenceClassification,
} from './modeling.js';
import { type OpticalFlowOptions, computeOpticalFlow } from './optical-flow.js';
import { type PerceiverEncodeOptions, PerceiverTokenizer } from './tokenization.js';

export interface PerceiverTextTaskOptions extends PretrainedOptions {
  /** The tokenizer; by default read from the model's folder or Hub id. */
  tokenizer?: PerceiverTokenizer;
}

/** Options of the image tasks: loading options and an optional `processor`. */
export type PerceiverImageTaskOptions = ImageTaskOptions<PerceiverImageProcessor>;

function disposer(loaded: { model: { dispose(): Promise<void> }; owned: boolean }): () => Promise<void> {
  return async () => {
    if (loaded.owned) await loaded.model.dispose();
  };
}

// ---------------------------------------------------------------------------------------------------------------
// fill-mask
// ---------------------------------------------------------------------------------------------------------------

/** One candidate for a [MASK], as transformers' FillMaskPipeline returns it. */
export interface FillMaskResult {
  score: number;
  token: number;
  /** `decode([token])`: one byte, so bytes >= 0x80 alone read as U+FFFD. */
  token_str: string;
  /** The input with this token in place of the mask (special tokens kept when the text has several masks). */
  sequence: string;
}

export interface FillMaskOptions {
  /** Candidates per mask, best first (default 5; clipped to the number of candidates). */
  topK?: number;
  /**
   * Restrict the candidates. Each is looked up in `getVocab()` (one character -> its Latin-1 byte, as transformers
   * does), else the first byte of its UTF-8.
   */
  targets?: string | readonly string[];
}

/** One text: one list per [MASK] when it has several, else the list itself. */
export type FillMaskOutput = FillMaskResult[] | FillMaskResult[][];

function targetIds(tokenizer: PerceiverTokenizer, targets: string | readonly string[]): number[] {
  const vocab = tokenizer.getVocab();
  const ids: number[] = [];
  for (const target of typeof targets === 'string' ? [targets] : targets) {
    const id = vocab.get(target) ?? tokenizer.tokenize(target)[0];
    // transformers skips (with a warning) a target that tokenizes to nothing
    if (id !== undefined && !ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) {
    throw new InvalidArgumentError(
      `targets ${JSON.stringify(targets)} give no token: at least one non-empty target is needed`,
    );
  }
  return ids;
}

/** Softmax over the whole vocabulary row, then the probabilities of `ids` (all ids without targets). */
function maskProbabilities(row: Float32Array, ids: readonly number[]): Float64Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of row) max = Math.max(max, value);
  let sum = 0;
  for (const value of row) sum += Math.exp(value - max);
  return Float64Array.from(ids, (id) => Math.exp(row[id]! - max) / sum);
}

/** A text task's input that is neither a string nor an array (undefined, a number...): a typed error, not a TypeError. */
function checkTexts(texts: unknown): void {
  if (!Array.isArray(texts)) {
    throw new InvalidArgumentError(
      `texts must be a string or an array of strings, got ${texts === null ? 'null' : typeof texts}`,
    );
  }
}

async function fillOne(
  model: PerceiverForMaskedLM,
  tokenizer: PerceiverTokenizer,
  text: string,
  { topK = 5, targets }: FillMaskOptions,
): Promise<FillMaskOutput> {
  if (!Number.isInteger(topK) || topK < 1) {
    throw new InvalidArgumentError(`topK must be an integer >= 1, got ${topK}`);
  }
  const encoding = tokenizer.encode(text);
  const inputIds = Array.from(encoding.input_ids.data, Number);
  const masked = inputIds.flatMap((id, i) => (id === tokenizer.maskTokenId ? [i] : []));
  if (masked.length === 0) {
    throw new InvalidArgumentError(`no mask token (${tokenizer.maskToken}) found in ${JSON.stringify(text)}`);
  }
  const candidates =
    targets === undefined
      ? Array.from({ length: tokenizer.vocabSize }, (_, i) => i)
      : targetIds(tokenizer, targets);
  const { logits } = await model.forward(encoding);
  const vocab = logits.dims[2]!;
  // With several masks, FillMaskPipeline decodes the sequences with their special tokens (the other masks show).
  const single = masked.length === 1;
  const rows = masked.map((position) => {
    const probs = maskProbabilities(
      logits.data.subarray(position * vocab, (position + 1) * vocab),
      candidates,
    );
    const order = Array.from(probs.keys()).sort((a, b) => probs[b]! - probs[a]! || a - b);
    return order.slice(0, Math.min(topK, candidates.length)).map((k): FillMaskResult => {
      const token = candidates[k]!;
      const filled = inputIds
        .map((id, i) => (i === position ? token : id))
        .filter((id) => id !== tokenizer.padTokenId);
      return {
        score: probs[k]!,
        token,
        token_str: tokenizer.decode([token]),
        sequence: tokenizer.decode(filled, { skipSpecialTokens: single }),
      };
    });
  });
  return single ? rows[0]! : rows;
}

/**
 * The fill-mask pipeline (transformers' FillMaskPipeline): for each `[MASK]` of a text, the `topK` most likely
 * bytes with their probability, the token id, the token as text and the filled-in sequence. A text with one mask
 * gives one list; with several masks, one list per mask. A list of texts gives one such result per text.
 *
 * @example
 * ```ts
 * import { fillMask } from '@ortvision/perceiver';
 * const fill = await fillMask('deepmind/language-perceiver');
 * console.log(await fill('The capital of France is Pari[MASK].', { topK: 3 }));
 * // [{ score, token: 121, token_str: 's', sequence: 'The capital of France is Paris.' }, ...]
 * await fill.dispose();
 * ```
 */
export async function fillMask(
  model: ModelSource<PerceiverForMaskedLM>,
  { tokenizer, ...options }: PerceiverTextTaskOptions = {},
): Promise<
  Pipeline<
    (
      texts: string | readonly string[],
      options?: FillMaskOptions,
    ) => Promise<FillMaskOutput | FillMaskOutput[]>
  >
> {
  const loaded = await resolveModel(model, (id, o) => PerceiverForMaskedLM.fromPretrained(id, o), options);
  const textTokenizer =
    tokenizer ?? (await PerceiverTokenizer.fromPretrained(loaded.model.nameOrPath, options));
  return makePipeline(async (texts: string | readonly string[], fill: FillMaskOptions = {}) => {
    if (typeof texts === 'string') return fillOne(loaded.model, textTokenizer, texts, fill);
    checkTexts(texts);
    if (texts.length === 0) throw new InputShapeError('expected at least one text, got an empty list');
    const results: FillMaskOutput[] = [];
    for (const text of texts) results.push(await fillOne(loaded.model, textTokenizer, text, fill));
    // FillMaskPipeline returns a one-text list's result unwrapped
    return results.length === 1 ? results[0]! : results;
  }, disposer(loaded));
}

// ---------------------------------------------------------------------------------------------------------------
// text-classification
// ---------------------------------------------------------------------------------------------------------------

export interface TextClassificationOptions {
  /**
   * Leave it out for the pipeline's default: the best label only (a one-element list for one text, one dict per
   * text for a list). A number gives that many labels best first, `null` every label, as a list per text.
   */
  topK?: number | null;
  /** Default: sigmoid for one-label or multi-label models, else softmax. */
  functionToApply?: ClassificationFunction;
  /** Cut texts longer than the model's max_position_embeddings bytes (the pipeline does not: default false). */
  truncation?: boolean;
}

/**
 * The text-classification pipeline (transformers' TextClassificationPipeline) on PerceiverForSequenceClassification.
 *
 * @example
 * ```ts
 * import { textClassification } from '@ortvision/perceiver';
 * const classify = await textClassification('./perceiver-seq-cls');
 * await classify('I loved this film!'); // [{ label: 'positive', score: 0.86 }]
 * await classify('Terrible.', { topK: null }); // every label, best first
 * ```
 */
export async function textClassification(
  model: ModelSource<PerceiverForSequenceClassification>,
  { tokenizer, ...options }: PerceiverTextTaskOptions = {},
): Promise<
  Pipeline<
    (
      texts: string | readonly string[],
      options?: TextClassificationOptions,
    ) => Promise<LabelScore[] | LabelScore[][]>
  >
> {
  const loaded = await resolveModel(
    model,
    (id, o) => PerceiverForSequenceClassification.fromPretrained(id, o),
    options,
  );
  const textTokenizer =
    tokenizer ?? (await PerceiverTokenizer.fromPretrained(loaded.model.nameOrPath, options));
  return makePipeline(async (texts: string | readonly string[], classify: TextClassificationOptions = {}) => {
    const { topK, functionToApply, truncation = false } = classify;
    const single = typeof texts === 'string';
    if (!single) checkTexts(texts);
    const list = single ? [texts] : [...texts];
    if (list.length === 0) throw new InputShapeError('expected at least one text, got an empty list');
    const encodeOptions: PerceiverEncodeOptions = { padding: true };
    if (truncation)
      Object.assign(encodeOptions, {
        truncation: true,
        maxLength: loaded.model.config.max_position_embeddings,
      });
    const { logits } = await loaded.model.forward(textTokenizer.encode(list, encodeOptions));
    const numLabels = logits.dims[1]!;
    const legacy = !('topK' in classify) || topK === undefined;
    const ranked = classifyLogits(logits, loaded.model.config, {
      topK: legacy ? 1 : topK === null ? numLabels : Math.min(topK, numLabels),
      ...(functionToApply ? { functionToApply } : {}),
    });
    // transformers' legacy shape: the best label of each text, wrapped in a list for a single string
    if (legacy) return ranked.map((row) => row[0]!);
    return single ? ranked[0]! : ranked;
  }, disposer(loaded));
}

// ---------------------------------------------------------------------------------------------------------------
// image-classification
// ---------------------------------------------------------------------------------------------------------------

/** The three Perceiver image classifiers. */
export type PerceiverImageClassifier =
  | PerceiverForImageClassificationLearned
  | PerceiverForImageClassificationFourier
  | PerceiverForImageClassificationConvProcessing;

const imageClassifiers = {
  PerceiverForImageClassificationLearned,
  PerceiverForImageClassificationFourier,
  PerceiverForImageClassificationConvProcessing,
} as const;

/** Loads the image classifier that config.json's `architectures` names (Learned when it names none of them). */
async function loadImageClassifier(
  idOrPath: string,
  options: PretrainedOptions,
): Promise<PerceiverImageClassifier> {
  const config = await PerceiverConfig.fromPretrained(idOrPath, options);
  const name = (config.architectures ?? []).find(
    (a): a is keyof typeof imageClassifiers => a in imageClassifiers,
  );
  const ModelClass = imageClassifiers[name ?? 'PerceiverForImageClassificationLearned'];
  return (ModelClass as typeof PerceiverForImageClassificationLearned).fromPretrained(idOrPath, options);
}

/**
 * The image-classification pipeline on any of the three Perceiver image classifiers (picked from config.json's
 * `architectures` when given an id or folder): image(s) -> `[{ label, score }]` best first, ranked as
 * transformers' pipeline does (`topK` default 5). A list of images gives one list per image.
 *
 * @example
 * ```ts
 * import { imageClassification } from '@ortvision/perceiver';
 * const classify = await imageClassification('deepmind/vision-perceiver-conv');
 * console.log(await classify('cat.png', { topK: 3 }));
 * await classify.dispose();
 * ```
 */
export const imageClassification: ImageClassificationTask<PerceiverImageClassifier, PerceiverImageProcessor> =
  imageClassificationTask(loadImageClassifier, (id, options) =>
    PerceiverImageProcessor.fromPretrained(id, options),
  );

// ---------------------------------------------------------------------------------------------------------------
// optical-flow
// ---------------------------------------------------------------------------------------------------------------

/**
 * Optical flow between two frames of any (equal) size with PerceiverForOpticalFlow: float32 [H, W, 2], the
 * (dx, dy) motion of each pixel of frame 1 in pixels. Tiled inference with overlap weights as in the model card's
 * notebook (`computeOpticalFlow`); `flowToImage` draws the result.
 *
 * @example
 * ```ts
 * import { flowToImage, opticalFlow } from '@ortvision/perceiver';
 * const flowOf = await opticalFlow('deepmind/optical-flow-perceiver');
 * const flow = await flowOf('frame1.png', 'frame2.png'); // Tensor [H, W, 2]
 * await flowToImage(flow).save('flow.png');
 * await flowOf.dispose();
 * ```
 */
export async function opticalFlow(
  model: ModelSource<PerceiverForOpticalFlow>,
  options: PretrainedOptions = {},
): Promise<
  Pipeline<
    (frame1: ImageInput, frame2: ImageInput, options?: OpticalFlowOptions) => Promise<Tensor<'float32'>>
  >
> {
  const loaded = await resolveModel(model, (id, o) => PerceiverForOpticalFlow.fromPretrained(id, o), options);
  return makePipeline(
    async (frame1: ImageInput, frame2: ImageInput, flow?: OpticalFlowOptions) =>
      computeOpticalFlow(loaded.model, await loadImage(frame1), await loadImage(frame2), flow),
    disposer(loaded),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// multimodal autoencoding (the model card notebook's loop; not a transformers pipeline)
// ---------------------------------------------------------------------------------------------------------------

export interface MultimodalAutoencodingOptions {
  /** Model runs the output points are split into (default 1); only memory depends on it. */
  nchunks?: number;
  /** Labels per clip in `topK` (default 5): softmax of the label logits, best first. */
  topK?: number;
}

/** The reconstruction, the label logits, and each clip's best labels. */
export type MultimodalAutoencodingResult = PerceiverAutoencoding & { topK: LabelScore[][] };

/**
 * Video + audio autoencoding with PerceiverForMultimodalAutoencoding, as the model card's notebook runs it:
 * frames [batch, T, H, W, 3] in [0, 1] and audio [batch, samples, 1] in, the reconstruction, the label logits and
 * the top labels per clip out.
 *
 * @example
 * ```ts
 * import { multimodalAutoencoding } from '@ortvision/perceiver';
 * const autoencode = await multimodalAutoencoding('deepmind/multimodal-perceiver');
 * const { image, audio, topK } = await autoencode(frames, audio, { nchunks: 128 });
 * ```
 */
export async function multimodalAutoencoding(
  model: ModelSource<PerceiverForMultimodalAutoencoding>,
  options: PretrainedOptions = {},
): Promise<
  Pipeline<
    (
      images: Tensor<'float32'>,
      audio: Tensor<'float32'>,
      options?: MultimodalAutoencodingOptions,
    ) => Promise<MultimodalAutoencodingResult>
  >
> {
  const loaded = await resolveModel(
    model,
    (id, o) => PerceiverForMultimodalAutoencoding.fromPretrained(id, o),
    options,
  );
  return makePipeline(
    async (
      images: Tensor<'float32'>,
      audio: Tensor<'float32'>,
      { nchunks, topK = 5 }: MultimodalAutoencodingOptions = {},
    ) => {
      const result = await loaded.model.autoencode(images, audio, { nchunks });
      const ranked = classifyLogits(result.label, loaded.model.config, { topK, functionToApply: 'softmax' });
      return { ...result, topK: ranked };
    },
    disposer(loaded),
  );
}
