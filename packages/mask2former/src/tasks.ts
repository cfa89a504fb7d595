import {
  type BatchedTaskFunction,
  Image,
  type ImageInput,
  InvalidArgumentError,
  type TaskHelper,
  type Tensor,
  batchedTaskCall,
  checkThreshold,
  defineTask,
  describeValue,
  imageInputs,
  optionNames,
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

/** The keys of `ImageSegmentationOptions`. */
export const IMAGE_SEGMENTATION_OPTIONS = optionNames<ImageSegmentationOptions>({
  subtask: true,
  threshold: true,
  maskThreshold: true,
  overlapMaskAreaThreshold: true,
  labelIdsToFuse: true,
});

/** One segment as the image-segmentation pipeline returns it. */
export interface Segment {
  /** The segment's score; null for semantic segmentation. */
  score: number | null;
  label: string;
  /** A 1-channel image at the original size: 255 inside the segment, 0 elsewhere. */
  mask: Image;
}

/** The segmentation function: one image gives its segments, a list of images one list of segments per image. */
export type ImageSegmentationFunction = BatchedTaskFunction<
  ImageInput,
  [],
  ImageSegmentationOptions,
  Segment[]
>;

/** The parts `imageSegmentation` loads beside the model. */
export interface ImageSegmentationParts {
  /** The image processor; by default read from the model's folder or Hub id. */
  processor: Mask2FormerImageProcessor;
}

const SUBTASKS: readonly SegmentationSubtask[] = ['panoptic', 'instance', 'semantic'];

function maskImage(map: ArrayLike<number>, value: number, height: number, width: number): Image {
  const pixels = new Uint8Array(height * width);
  for (let i = 0; i < pixels.length; i++) pixels[i] = map[i] === value ? 255 : 0;
  return new Image(pixels, width, height, 1);
}

/** One image through the pipeline: preprocess, forward, post-process at the image's own size. */
async function segmentImage(
  model: Mask2FormerForUniversalSegmentation,
  processor: Mask2FormerImageProcessor,
  image: Image,
  options: ImageSegmentationOptions,
): Promise<Segment[]> {
  const subtask = options.subtask ?? 'panoptic';
  const outputs = await model.forward(await processor.preprocess(image));
  const targetSizes = [[image.height, image.width] as const];
  const { height, width } = image;
  const { config } = model;
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
    threshold: checkThreshold(options.threshold, 'threshold', 0.9),
    maskThreshold: checkThreshold(options.maskThreshold, 'maskThreshold', 0.5),
    overlapMaskAreaThreshold: checkThreshold(
      options.overlapMaskAreaThreshold,
      'overlapMaskAreaThreshold',
      0.5,
    ),
  };
  const [result] =
    subtask === 'panoptic'
      ? processor.postProcessPanopticSegmentation(outputs, {
          ...post,
          labelIdsToFuse: options.labelIdsToFuse,
        })
      : processor.postProcessInstanceSegmentation(outputs, post);
  const map = (result!.segmentation as Tensor<'float32'> | Tensor<'int32'>).data;
  return result!.segments_info.map((segment) => ({
    score: segment.score,
    label: config.labelOf(segment.label_id),
    mask: maskImage(map, segment.id, height, width),
  }));
}

/**
 * The image-segmentation pipeline of transformers for Mask2Former: preprocess one image, run the model, and
 * post-process at the image's own size. 'panoptic' and 'instance' give one `{ score, label, mask }` per segment;
 * 'semantic' gives one entry per label present (ascending label id) with `score: null`. Defaults: threshold 0.9,
 * maskThreshold 0.5, overlapMaskAreaThreshold 0.5. A list of images gives one list of segments per image (each
 * image runs on its own, as the pipeline runs them). Every call takes `{ signal }`.
 *
 * @example
 * ```ts
 * import { imageSegmentation } from '@ortvision/mask2former';
 * const segment = await imageSegmentation('facebook/mask2former-swin-tiny-coco-panoptic');
 * const segments = await segment('street.jpg', { subtask: 'panoptic' });
 * await segments[0].mask.save('first-segment.png');
 * const perImage = await segment(['street.jpg', 'cats.png']); // Segment[][]
 * await segment.dispose();
 * ```
 */
export const imageSegmentation: TaskHelper<
  Mask2FormerForUniversalSegmentation,
  ImageSegmentationParts,
  object,
  ImageSegmentationFunction
> = defineTask({
  name: 'imageSegmentation',
  model: (id, options) => Mask2FormerForUniversalSegmentation.fromPretrained(id, options),
  parts: { processor: (id, options) => Mask2FormerImageProcessor.fromPretrained(id, options) },
  create: ({ model, parts: { processor } }) =>
    batchedTaskCall({
      name: 'imageSegmentation',
      input: imageInputs,
      arity: 0,
      options: IMAGE_SEGMENTATION_OPTIONS,
      run: async (images, _args, options, context) => {
        if (options.subtask !== undefined && !SUBTASKS.includes(options.subtask)) {
          throw new InvalidArgumentError(
            `subtask must be 'panoptic', 'instance' or 'semantic', got ${describeValue(options.subtask)}`,
          );
        }
        const results: Segment[][] = [];
        for (const [i, image] of images.entries()) {
          context.throwIfAborted(`segmenting image ${i}`);
          results.push(await segmentImage(model, processor, image, options));
        }
        return results;
      },
    }),
});
