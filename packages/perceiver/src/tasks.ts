import {
  type ClassificationFunction,
  type ImageClassificationTask,
  type ImageInput,
  type ImageTaskOptions,
  InvalidArgumentError,
  type LabelScore,
  type ResolveOptions,
  type TaskCallOptions,
  type TaskLoadOptions,
  type Tensor,
  checkFinite,
  checkFlag,
  checkInteger,
  classifyLogits,
  defineTask,
  describeValue,
  fromPretrainedByArchitecture,
  imageClassificationTask,
  optionNames,
  prepareInputs,
  softmaxOf,
  taskCall,
  textInputs,
} from '@ortvision/core';
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
import { OPTICAL_FLOW_OPTIONS, type OpticalFlowOptions, computeOpticalFlow } from './optical-flow.js';
import { type PerceiverEncodeOptions, PerceiverTokenizer } from './tokenization.js';

/** The part the text tasks load beside the model. */
export interface PerceiverTextTaskParts {
  /** The tokenizer; by default read from the model's folder or Hub id. */
  tokenizer: PerceiverTokenizer;
}

/** Loading options of the text tasks: the model's loading options and an optional `tokenizer`. */
export type PerceiverTextTaskOptions = TaskLoadOptions<PerceiverTextTaskParts>;

/** Options of the image tasks: loading options and an optional `processor`. */
export type PerceiverImageTaskOptions = ImageTaskOptions<PerceiverImageProcessor>;

const tokenizerPart = {
  tokenizer: (id: string, options: ResolveOptions) => PerceiverTokenizer.fromPretrained(id, options),
};

/** Encoding options for texts that may be cut to the model's `max_position_embeddings` bytes. */
function encodeOptions(truncation: unknown, maxPositions: number): PerceiverEncodeOptions {
  if (!checkFlag(truncation, 'truncation', false)) return { padding: true };
  return { padding: true, truncation: true, maxLength: maxPositions };
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
  /**
   * Cut texts longer than the model's `max_position_embeddings` bytes (default false: such a text is an
   * `InputShapeError`, as the pipeline fails on it).
   */
  truncation?: boolean;
}

/** The keys of `FillMaskOptions`. */
export const FILL_MASK_OPTIONS = optionNames<FillMaskOptions>({
  topK: true,
  targets: true,
  truncation: true,
});

/** One text: one list per [MASK] when it has several, else the list itself. */
export type FillMaskOutput = FillMaskResult[] | FillMaskResult[][];

/**
 * The fill-mask function. A list of texts gives one `FillMaskOutput` per text, except that a list of ONE text
 * gives that text's output unwrapped, as transformers' FillMaskPipeline does.
 */
export interface FillMaskFunction {
  (text: string, options?: FillMaskOptions & TaskCallOptions): Promise<FillMaskOutput>;
  (
    texts: string | readonly string[],
    options?: FillMaskOptions & TaskCallOptions,
  ): Promise<FillMaskOutput[] | FillMaskOutput>;
}

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

async function fillOne(
  model: PerceiverForMaskedLM,
  tokenizer: PerceiverTokenizer,
  text: string,
  { topK = 5, targets, truncation }: FillMaskOptions,
): Promise<FillMaskOutput> {
  checkInteger(topK, 'topK', { min: 1 });
  const encoding = tokenizer.encode(
    text,
    encodeOptions(truncation, model.config.max_position_embeddings as number),
  );
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
    // Softmax over the whole vocabulary row, then the probabilities of the candidates.
    const all = softmaxOf(logits.data.subarray(position * vocab, (position + 1) * vocab));
    checkFinite(all, `the token probabilities at [MASK] position ${position}`);
    const probs = Float64Array.from(candidates, (id) => all[id]!);
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
 * `truncation: true` cuts texts longer than the model's positions.
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
export const fillMask = defineTask({
  name: 'fillMask',
  model: (id, options) => PerceiverForMaskedLM.fromPretrained(id, options),
  parts: tokenizerPart,
  create: ({ model, parts: { tokenizer } }): FillMaskFunction =>
    taskCall({
      name: 'fillMask',
      arity: 1,
      options: FILL_MASK_OPTIONS,
      run: async ([texts]: [string | readonly string[]], options, context) => {
        const { items, single } = await prepareInputs(textInputs, texts, context, 'fillMask');
        const results: FillMaskOutput[] = [];
        for (const text of items) results.push(await fillOne(model, tokenizer, text, options));
        // FillMaskPipeline returns a one-text list's result unwrapped
        return single || results.length === 1 ? results[0]! : results;
      },
    }) as FillMaskFunction,
});

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

/** The keys of `TextClassificationOptions`. */
export const TEXT_CLASSIFICATION_OPTIONS = optionNames<TextClassificationOptions>({
  topK: true,
  functionToApply: true,
  truncation: true,
});

/**
 * The text-classification function, with the pipeline's result shapes: one text gives a list (the best label
 * alone unless `topK` is given); a list of texts gives the best label of each text, or with `topK` (a number or
 * `null` for all) one list per text.
 */
export interface TextClassificationFunction {
  (text: string, options?: TextClassificationOptions & TaskCallOptions): Promise<LabelScore[]>;
  (
    texts: readonly string[],
    options: TextClassificationOptions & { topK: number | null } & TaskCallOptions,
  ): Promise<LabelScore[][]>;
  (texts: readonly string[], options?: TextClassificationOptions & TaskCallOptions): Promise<LabelScore[]>;
  (
    texts: string | readonly string[],
    options?: TextClassificationOptions & TaskCallOptions,
  ): Promise<LabelScore[] | LabelScore[][]>;
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
export const textClassification = defineTask({
  name: 'textClassification',
  model: (id, options) => PerceiverForSequenceClassification.fromPretrained(id, options),
  parts: tokenizerPart,
  create: ({ model, parts: { tokenizer } }): TextClassificationFunction =>
    taskCall({
      name: 'textClassification',
      arity: 1,
      options: TEXT_CLASSIFICATION_OPTIONS,
      run: async ([texts]: [string | readonly string[]], options, context) => {
        const { topK, functionToApply, truncation } = options;
        const { items, single } = await prepareInputs(textInputs, texts, context, 'textClassification');
        const encoding = tokenizer.encode(
          items,
          encodeOptions(truncation, model.config.max_position_embeddings as number),
        );
        const { logits } = await model.forward(encoding);
        const numLabels = logits.dims[1]!;
        const legacy = topK === undefined;
        if (topK !== undefined && topK !== null) checkInteger(topK, 'topK', { min: 1 });
        const ranked = classifyLogits(logits, model.config, {
          topK: legacy ? 1 : topK === null ? numLabels : Math.min(topK, numLabels),
          ...(functionToApply ? { functionToApply } : {}),
        });
        // transformers' legacy shape: the best label of each text, wrapped in a list for a single string
        if (legacy) return ranked.map((row) => row[0]!);
        return single ? ranked[0]! : ranked;
      },
    }) as TextClassificationFunction,
});

// ---------------------------------------------------------------------------------------------------------------
// image-classification
// ---------------------------------------------------------------------------------------------------------------

/** The three Perceiver image classifiers. */
export type PerceiverImageClassifier =
  | PerceiverForImageClassificationLearned
  | PerceiverForImageClassificationFourier
  | PerceiverForImageClassificationConvProcessing;

/**
 * The image-classification pipeline on any of the three Perceiver image classifiers (picked from config.json's
 * `architectures` when given an id or folder; Learned when it names none): image -> `[{ label, score }]` best
 * first, ranked as transformers' pipeline does (`topK` default 5); a list of images gives one list per image.
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
  imageClassificationTask(
    (id, options) =>
      fromPretrainedByArchitecture<PerceiverImageClassifier>(
        id,
        options,
        {
          PerceiverForImageClassificationLearned,
          PerceiverForImageClassificationFourier,
          PerceiverForImageClassificationConvProcessing,
        },
        'PerceiverForImageClassificationLearned',
      ),
    (id, options) => PerceiverImageProcessor.fromPretrained(id, options),
  );

// ---------------------------------------------------------------------------------------------------------------
// optical-flow
// ---------------------------------------------------------------------------------------------------------------

/**
 * Optical flow between two frames of any (equal) size with PerceiverForOpticalFlow: float32 [H, W, 2], the
 * (dx, dy) motion of each pixel of frame 1 in pixels. Tiled inference with overlap weights as in the model card's
 * notebook (`computeOpticalFlow`); `flowToImage` draws the result. `signal` is checked between tiles.
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
export const opticalFlow = defineTask({
  name: 'opticalFlow',
  model: (id, options) => PerceiverForOpticalFlow.fromPretrained(id, options),
  create: ({ model }) =>
    taskCall({
      name: 'opticalFlow',
      arity: 2,
      options: OPTICAL_FLOW_OPTIONS,
      run: async ([frame1, frame2]: [ImageInput, ImageInput], options: OpticalFlowOptions, context) => {
        const [first, second] = await context.loadImages([frame1, frame2]);
        return computeOpticalFlow(model, first!, second!, options);
      },
    }),
});

// ---------------------------------------------------------------------------------------------------------------
// multimodal autoencoding (the model card notebook's loop; not a transformers pipeline)
// ---------------------------------------------------------------------------------------------------------------

export interface MultimodalAutoencodingOptions {
  /** Model runs the output points are split into (default 1); only memory depends on it. */
  nchunks?: number;
  /** Labels per clip in `topK` (default 5): softmax of the label logits, best first. */
  topK?: number;
}

/** The keys of `MultimodalAutoencodingOptions`. */
export const MULTIMODAL_AUTOENCODING_OPTIONS = optionNames<MultimodalAutoencodingOptions>({
  nchunks: true,
  topK: true,
});

/** The reconstruction, the label logits, and each clip's best labels. */
export type MultimodalAutoencodingResult = PerceiverAutoencoding & { topK: LabelScore[][] };

/**
 * Video + audio autoencoding with PerceiverForMultimodalAutoencoding, as the model card's notebook runs it:
 * frames [batch, T, H, W, 3] in [0, 1] and audio [batch, samples, 1] in, the reconstruction, the label logits and
 * the top labels per clip out. `signal` is checked between chunks.
 *
 * @example
 * ```ts
 * import { multimodalAutoencoding } from '@ortvision/perceiver';
 * const autoencode = await multimodalAutoencoding('deepmind/multimodal-perceiver');
 * const { image, audio, topK } = await autoencode(frames, audio, { nchunks: 128 });
 * ```
 */
export const multimodalAutoencoding = defineTask({
  name: 'multimodalAutoencoding',
  model: (id, options) => PerceiverForMultimodalAutoencoding.fromPretrained(id, options),
  create: ({ model }) =>
    taskCall({
      name: 'multimodalAutoencoding',
      arity: 2,
      options: MULTIMODAL_AUTOENCODING_OPTIONS,
      run: async (
        [images, audio]: [Tensor<'float32'>, Tensor<'float32'>],
        { nchunks, topK = 5 }: MultimodalAutoencodingOptions,
      ): Promise<MultimodalAutoencodingResult> => {
        checkInteger(topK, 'topK', { min: 1 });
        const result = await model.autoencode(images, audio, { nchunks });
        const ranked = classifyLogits(result.label, model.config, { topK, functionToApply: 'softmax' });
        return { ...result, topK: ranked };
      },
    }),
});
