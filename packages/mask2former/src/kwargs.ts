import { optionsFromKwargs, preprocessKwargNames } from '@ortvision/core';
import type { Mask2FormerPreprocessOptions } from './image-processing.js';
import type { InstanceSegmentationOptions, PanopticSegmentationOptions } from './post-processing.js';
import type { ImageSegmentationOptions } from './tasks.js';

type Kwargs = Readonly<Record<string, unknown>>;

/**
 * Python `Mask2FormerImageProcessor` keyword arguments (`{"size_divisor": 0, "do_normalize": false}`) as
 * `preprocess` overrides.
 */
export function preprocessOptionsFromKwargs(kwargs: Kwargs): Mask2FormerPreprocessOptions {
  return optionsFromKwargs<Mask2FormerPreprocessOptions>(
    kwargs,
    { ...preprocessKwargNames, size_divisor: 'sizeDivisor' },
    'image processor',
  );
}

/** Python `post_process_*_segmentation` keyword arguments as the options of the post-processing functions. */
export function segmentationOptionsFromKwargs(
  kwargs: Kwargs,
): InstanceSegmentationOptions & PanopticSegmentationOptions {
  return optionsFromKwargs(
    kwargs,
    {
      target_sizes: 'targetSizes',
      threshold: 'threshold',
      mask_threshold: 'maskThreshold',
      overlap_mask_area_threshold: 'overlapMaskAreaThreshold',
      label_ids_to_fuse: 'labelIdsToFuse',
      return_coco_annotation: 'returnCocoAnnotation',
      return_binary_maps: 'returnBinaryMaps',
    },
    'post-processing',
  );
}

/** Python image-segmentation pipeline keyword arguments (`subtask`, `threshold`, ...) as call options. */
export function imageSegmentationOptionsFromKwargs(kwargs: Kwargs): ImageSegmentationOptions {
  return optionsFromKwargs(
    kwargs,
    {
      subtask: 'subtask',
      threshold: 'threshold',
      mask_threshold: 'maskThreshold',
      overlap_mask_area_threshold: 'overlapMaskAreaThreshold',
      label_ids_to_fuse: 'labelIdsToFuse',
    },
    'image-segmentation',
  );
}
