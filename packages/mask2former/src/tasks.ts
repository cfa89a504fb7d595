import {
  Image,
  type ImageInput,
  InvalidArgumentError,
  type ModelSource,
  type Pipeline,
  type PretrainedOptions,
  type Tensor,
  loadImage,
  makePipeline,
  resolveModel,
  uniqueValues,
} from '@ortvision/core';
import { Mask2FormerImageProcessor } from './image-processing.js';
import { Mask2FormerForUniversalSegmentation } from './modeling.js';

export type SegmentationSubtask = 'panoptic' | 'instance' | 'semantic';

/** Options of one `imageSegmentation` call (the pipeline's defaults differ from the post-processors'). */
export interface ImageSegmentationOptions {
  /** 'panoptic' (default), 'instance' or 'semantic'. */
  subtask?: SegmentationSubtask;
  /** Minimum segment score (default 0.9). */
  threshold?: number;
  /** Panoptic: mask probability threshold (default 0.5). */
  maskThreshold?: number;
  /** Panoptic: minimum share of a query's mask it must win (default 0.5). */
  overlapMaskAreaThreshold?: number;
  /** Panoptic: label ids whose queries share one segment. */
  labelIdsToFuse?: Iterable<number>;
}

/** One segment as the image-segmentation pipeline returns it. */
export interface Segment {
  /** The segment's score; null for semantic segmentation. */
  score: number | null;
  label: string;
  /** A 1-channel image at the original size: 255 inside the segment, 0 elsewhere. */
  mask: Image;
}

export type ImageSegmentationFunction = (
  image: ImageInput,
  options?: ImageSegmentationOptions,
) => Promise<Segment[]>;

const SUBTASKS: readonly SegmentationSubtask[] = ['panoptic', 'instance', 'semantic'];

function maskImage(map: ArrayLike<number>, value: number, height: number, width: number): Image {
  const pixels = new Uint8Array(height * width);
  for (let i = 0; i < pixels.length; i++) pixels[i] = map[i] === value ? 255 : 0;
  return new Image(pixels, width, height, 1);
}

/**
 * The image-segmentation pipeline of transformers for Mask2Former: preprocess one image, run the model, and
 * post-process at the image's own size. 'panoptic' and 'instance' give one `{ score, label, mask }` per segment;
 * 'semantic' gives one entry per label present (ascending label id) with `score: null`. Defaults: threshold 0.9,
 * maskThreshold 0.5, overlapMaskAreaThreshold 0.5.
 *
 * @example
 * ```ts
 * import { imageSegmentation } from '@ortvision/mask2former';
 * const segment = await imageSegmentation('facebook/mask2former-swin-tiny-coco-panoptic');
 * const segments = await segment('street.jpg', { subtask: 'panoptic' });
 * await segments[0].mask.save('first-segment.png');
 * await segment.dispose();
 * ```
 */
export async function imageSegmentation(
  model: ModelSource<Mask2FormerForUniversalSegmentation>,
  options: PretrainedOptions = {},
): Promise<Pipeline<ImageSegmentationFunction>> {
  const { model: loaded, owned } = await resolveModel(
    model,
    (id, opts) => Mask2FormerForUniversalSegmentation.fromPretrained(id, opts),
    options,
  );
  let processor: Mask2FormerImageProcessor;
  try {
    processor = await Mask2FormerImageProcessor.fromPretrained(loaded.nameOrPath, options);
  } catch (error) {
    if (owned) await loaded.dispose();
    throw error;
  }
  const run: ImageSegmentationFunction = async (input, callOptions = {}) => {
    const subtask = callOptions.subtask ?? 'panoptic';
    if (!SUBTASKS.includes(subtask)) {
      throw new InvalidArgumentError(
        `subtask must be 'panoptic', 'instance' or 'semantic', got ${JSON.stringify(subtask)}`,
      );
    }
    const image = input instanceof Image ? input : await loadImage(input);
    const outputs = await loaded.forward(await processor.preprocess(image));
    const targetSizes = [[image.height, image.width] as const];
    const { height, width } = image;
    const config = loaded.config;
    if (subtask === 'semantic') {
      const [map] = processor.postProcessSemanticSegmentation(outputs, { targetSizes });
      const data = (map as Tensor<'int32'>).data;
      return uniqueValues(data).map((label) => ({
        score: null,
        label: config.labelOf(label),
        mask: maskImage(data, label, height, width),
      }));
    }
    const post = {
      targetSizes,
      threshold: callOptions.threshold ?? 0.9,
      maskThreshold: callOptions.maskThreshold ?? 0.5,
      overlapMaskAreaThreshold: callOptions.overlapMaskAreaThreshold ?? 0.5,
    };
    const [result] =
      subtask === 'panoptic'
        ? processor.postProcessPanopticSegmentation(outputs, {
            ...post,
            labelIdsToFuse: callOptions.labelIdsToFuse,
          })
        : processor.postProcessInstanceSegmentation(outputs, post);
    const map = (result!.segmentation as Tensor<'float32'> | Tensor<'int32'>).data;
    return result!.segments_info.map((segment) => ({
      score: segment.score,
      label: config.labelOf(segment.label_id),
      mask: maskImage(map, segment.id, height, width),
    }));
  };
  return makePipeline(run, async () => {
    if (owned) await loaded.dispose();
  });
}
