import { InvalidArgumentError, preprocessOptionsFromKwargs } from '@ortvision/core';
import type { Mask2FormerPreprocessOptions } from './image-processing.js';
import type { InstanceSegmentationOptions, PanopticSegmentationOptions } from './post-processing.js';
import type { ImageSegmentationOptions } from './tasks.js';

type Kwargs = Readonly<Record<string, unknown>>;

function rename<T>(kwargs: Kwargs, names: Readonly<Record<string, string>>, what: string): T {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(kwargs)) {
    const name = names[key];
    if (!name) {
      throw new InvalidArgumentError(
        `unknown ${what} argument "${key}" (known: ${Object.keys(names).join(', ')})`,
      );
    }
    if (value !== null && value !== undefined) options[name] = value;
  }
  return options as T;
}

/**
 * Python `Mask2FormerImageProcessor` keyword arguments (`{"size_divisor": 0, "do_normalize": false}`) as
 * `preprocess` overrides.
 */
export function preprocessOptionsFromPythonKwargs(kwargs: Kwargs): Mask2FormerPreprocessOptions {
  const { size_divisor: sizeDivisor, ...rest } = kwargs;
  const options: Mask2FormerPreprocessOptions = preprocessOptionsFromKwargs(rest);
  if (sizeDivisor !== undefined && sizeDivisor !== null) options.sizeDivisor = sizeDivisor as number;
  return options;
}

const POST_NAMES = {
  target_sizes: 'targetSizes',
  threshold: 'threshold',
  mask_threshold: 'maskThreshold',
  overlap_mask_area_threshold: 'overlapMaskAreaThreshold',
  label_ids_to_fuse: 'labelIdsToFuse',
  return_coco_annotation: 'returnCocoAnnotation',
  return_binary_maps: 'returnBinaryMaps',
};

/** Python `post_process_*_segmentation` keyword arguments as the options of the post-processing functions. */
export function segmentationOptionsFromPythonKwargs(
  kwargs: Kwargs,
): InstanceSegmentationOptions & PanopticSegmentationOptions {
  return rename(kwargs, POST_NAMES, 'post-processing');
}

/** Python image-segmentation pipeline keyword arguments (`subtask`, `threshold`, ...) as call options. */
export function imageSegmentationOptionsFromPythonKwargs(kwargs: Kwargs): ImageSegmentationOptions {
  return rename(
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
