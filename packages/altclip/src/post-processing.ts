import {
  InputShapeError,
  InvalidArgumentError,
  type LabelScore,
  Tensor,
  checkFinite,
  classifyLogits,
  describeValue,
  l2Normalize,
  softmax,
} from '@ortvision/core';

/** What `similarityFromEmbeddings` returns: the joint model's logits, computed from the two towers. */
export interface AltCLIPSimilarity {
  /** [images, texts]: cosine similarity x exp(logit_scale), as `AltCLIPModel.forward`. */
  logits_per_image: Tensor<'float32'>;
  /** [texts, images]: the transpose. */
  logits_per_text: Tensor<'float32'>;
  /** [images, texts]: softmax of `logits_per_image` over the texts (zero-shot classification's scores). */
  probs_per_image: Tensor<'float32'>;
  /** [texts, d] L2-normalized text embeddings. */
  text_embeds_normalized: Tensor<'float32'>;
  /** [images, d] L2-normalized image embeddings. */
  image_embeds_normalized: Tensor<'float32'>;
}

export interface SimilarityOptions {
  /**
   * The raw `logit_scale` (Python's `model.logit_scale`, e.g. `await model.logitScale()`): the natural LOG of the
   * scale, logits use its exp. BAAI/AltCLIP's is ln 100 = 4.6052; see `checkLogitScale`.
   */
  logitScale: number;
}

/**
 * The largest `logitScale` accepted: exp(80) = 5.5e34 still leaves float32 room for the logits, while a value
 * near 88.7 overflows to Infinity and turns every score into NaN.
 */
export const MAX_LOGIT_SCALE = 80;

/**
 * `logitScale` checked: a finite number no larger than `MAX_LOGIT_SCALE`. It is the log of the scale that
 * multiplies the cosine similarities; CLIP-style training clamps the scale at 100, so trained models have values
 * from 0 to ln 100 = 4.6052. Passing the scale itself (100 instead of 4.6052) would overflow float32 and is
 * refused with a message saying so.
 *
 * @example
 * checkLogitScale(Math.log(100)); // 4.605170185988092
 */
export function checkLogitScale(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value > MAX_LOGIT_SCALE) {
    const hint =
      typeof value === 'number' && value > MAX_LOGIT_SCALE
        ? `: its exp overflows float32 (did you pass the scale instead of its log? for a scale of ${value} pass ${Math.log(value).toFixed(4)})`
        : '';
    throw new InvalidArgumentError(
      `logitScale must be a finite number <= ${MAX_LOGIT_SCALE}, the natural log of the similarity scale (trained models: 0 to ln 100 = 4.6052), got ${describeValue(value)}${hint}`,
    );
  }
  return value;
}

function checkEmbeds(value: unknown, name: string): Tensor<'float32'> {
  if (!(value instanceof Tensor) || value.dtype !== 'float32' || value.rank !== 2) {
    const got = value instanceof Tensor ? `${value.dtype} [${value.dims.join(', ')}]` : typeof value;
    throw new InputShapeError(`${name} must be a float32 Tensor [batch, projection_dim], got ${got}`);
  }
  return value as Tensor<'float32'>;
}

/**
 * `logits_per_image` [images, texts] from embeddings that are already L2-normalized: cosine similarity times
 * `exp(logit_scale)`, rounded to float32 as torch's matmul result is.
 */
export function logitsFromNormalized(
  textEmbeds: Tensor<'float32'>,
  imageEmbeds: Tensor<'float32'>,
  logitScale: number,
): Tensor<'float32'> {
  const [texts, d] = textEmbeds.dims as [number, number];
  const images = imageEmbeds.dims[0]!;
  const scale = Math.fround(Math.exp(checkLogitScale(logitScale)));
  const logits = new Float32Array(images * texts);
  for (let i = 0; i < images; i++) {
    for (let t = 0; t < texts; t++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += imageEmbeds.data[i * d + k]! * textEmbeds.data[t * d + k]!;
      logits[i * texts + t] = Math.fround(dot) * scale;
    }
  }
  return new Tensor('float32', logits, [images, texts]);
}

function transpose(matrix: Tensor<'float32'>): Tensor<'float32'> {
  const [rows, cols] = matrix.dims as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) out[c * rows + r] = matrix.data[r * cols + c]!;
  return new Tensor('float32', out, [cols, rows]);
}

/**
 * Image-text similarity from the separate towers (`getTextFeatures` / `getImageFeatures`, or `text_model.onnx` /
 * `vision_model.onnx`): L2-normalize each, `logits_per_text = text @ image.T * exp(logit_scale)`, and the softmax
 * over texts. Equals `AltCLIPModel.forward`'s logits (fixture altclip, postprocess case `similarity-from-towers`).
 *
 * @example
 * ```ts
 * import { similarityFromEmbeddings } from '@ortvision/altclip';
 * const text = await model.getTextFeatures(await processor.process({ text: ['猫', 'dog'], padding: true }));
 * const image = await model.getImageFeatures(await processor.process({ images: 'cats.png' }));
 * const { probs_per_image } = similarityFromEmbeddings(text, image, { logitScale: await model.logitScale() });
 * ```
 */
export function similarityFromEmbeddings(
  textEmbeds: Tensor<'float32'>,
  imageEmbeds: Tensor<'float32'>,
  { logitScale }: SimilarityOptions,
): AltCLIPSimilarity {
  const text = checkEmbeds(textEmbeds, 'textEmbeds');
  const image = checkEmbeds(imageEmbeds, 'imageEmbeds');
  if (text.dims[1] !== image.dims[1]) {
    throw new InputShapeError(
      `textEmbeds [${text.dims.join(', ')}] and imageEmbeds [${image.dims.join(', ')}] must have the same embedding size`,
    );
  }
  checkLogitScale(logitScale);
  checkFinite(text.data, 'textEmbeds');
  checkFinite(image.data, 'imageEmbeds');
  const text_embeds_normalized = l2Normalize(text);
  const image_embeds_normalized = l2Normalize(image);
  const logits_per_image = logitsFromNormalized(text_embeds_normalized, image_embeds_normalized, logitScale);
  return {
    logits_per_image,
    logits_per_text: transpose(logits_per_image),
    probs_per_image: softmax(logits_per_image, -1),
    text_embeds_normalized,
    image_embeds_normalized,
  };
}

/**
 * The zero-shot-image-classification pipeline's ranking of one image's logits over its candidate labels: softmax,
 * sorted by score descending with a stable sort (tied labels keep `candidateLabels` order, fixture altclip case
 * `zero-shot-noise_37x53`), the first `topK` (default: all).
 */
export function rankCandidateLabels(
  logitsPerImage: Tensor<'float32'>,
  candidateLabels: readonly string[],
  topK: number = candidateLabels.length,
): LabelScore[][] {
  if (logitsPerImage.rank !== 2 || logitsPerImage.dims[1] !== candidateLabels.length) {
    throw new InputShapeError(
      `logits_per_image must be [images, ${candidateLabels.length}] for ${candidateLabels.length} labels, got [${logitsPerImage.dims.join(', ')}]`,
    );
  }
  const id2label = Object.fromEntries(candidateLabels.map((label, i) => [String(i), label]));
  return classifyLogits(logitsPerImage, { id2label }, { topK, functionToApply: 'softmax' });
}
