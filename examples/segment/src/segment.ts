import { type SegmentationPrompt, promptSegmentation } from '@ortvision/clipseg';
import {
  type Image,
  InvalidArgumentError,
  type LabelledMask,
  ModelNotFoundError,
  type PictureOptions,
  PretrainedConfig,
  type PretrainedOptions,
  annotateImage,
} from '@ortvision/core';
import { type SegmentationSubtask, imageSegmentation } from '@ortvision/mask2former';

export const subtasks: readonly SegmentationSubtask[] = ['semantic', 'instance', 'panoptic'];

/** An image prompt for CLIPSeg, with the name it gets in the legend and the JSON. */
export interface ImagePrompt {
  label: string;
  image: Image;
}

/**
 * CLIPSeg reads `prompts` / `imagePrompts` and uses `threshold` (if given) to draw binary masks instead of
 * probabilities. Mask2Former reads `subtask` and the thresholds of transformers' image-segmentation pipeline.
 */
export interface SegmentRequest {
  prompts?: readonly string[];
  imagePrompts?: readonly ImagePrompt[];
  subtask?: SegmentationSubtask;
  threshold?: number;
  maskThreshold?: number;
  overlapMaskAreaThreshold?: number;
}

export interface SegmentSummary {
  label: string;
  /** Mask2Former: the segment's score (null for semantic); CLIPSeg: the mask's highest probability. */
  score: number | null;
  /** Share of the image's pixels in the segment (CLIPSeg: probability above the threshold, default 0.5). */
  area: number;
}

export interface SegmentResult {
  model_type: 'clipseg' | 'mask2former';
  subtask?: SegmentationSubtask;
  segments: SegmentSummary[];
  /**
   * Mask2Former segments that cover no pixel at all (possible for instance segmentation at the mask threshold):
   * how many were left out of `segments` and the legend, since there is nothing of them to show.
   */
  empty_segments?: number;
  /** The image with the masks overlaid in distinct colours and a legend underneath: PNG bytes, or as asked. */
  picture: Buffer;
}

export interface Segmenter {
  readonly modelType: 'clipseg' | 'mask2former';
  segment(image: Image, request: SegmentRequest, picture?: PictureOptions): Promise<SegmentResult>;
  dispose(): Promise<void>;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

/** A share of the image to 3 significant digits: a segment of a few pixels shows as 3.26e-6, not as 0. */
function share(count: number, total: number): number {
  return Number((count / total).toPrecision(3));
}

async function clipsegSegmenter(model: string, options: PretrainedOptions): Promise<Segmenter> {
  const pipeline = await promptSegmentation(model, options);
  return {
    modelType: 'clipseg',
    async segment(image, { prompts = [], imagePrompts = [], threshold }, picture = {}) {
      if (prompts.length + imagePrompts.length === 0) {
        throw new InvalidArgumentError('CLIPSeg needs at least one text prompt or image prompt');
      }
      const all: SegmentationPrompt[] = [...prompts, ...imagePrompts.map(({ image }) => ({ image }))];
      const labels = [...prompts, ...imagePrompts.map((p) => p.label)];
      const results = await pipeline(image, all);
      const cut = threshold ?? 0.5;
      const masks: LabelledMask[] = [];
      const segments = results.map(({ mask }, i) => {
        const data = mask.data;
        let max = 0;
        let inside = 0;
        for (let p = 0; p < data.length; p++) {
          if (data[p]! > max) max = data[p]!;
          if (data[p]! > cut) inside++;
        }
        // Without a threshold the probabilities themselves are drawn: a heat map, as CLIPSeg's demos show it.
        const drawn = threshold === undefined ? data : data.map((v) => (v > threshold ? 1 : 0));
        masks.push({ mask: drawn, label: labels[i]!, score: max });
        return { label: labels[i]!, score: round(max), area: share(inside, data.length) };
      });
      // Every prompt is listed, even with area 0: it is the answer to a question the caller asked.
      return { model_type: 'clipseg', segments, picture: await annotateImage(image, { masks }, picture) };
    },
    dispose: () => pipeline.dispose(),
  };
}

async function mask2formerSegmenter(model: string, options: PretrainedOptions): Promise<Segmenter> {
  const pipeline = await imageSegmentation(model, options);
  return {
    modelType: 'mask2former',
    async segment(
      image,
      { prompts = [], imagePrompts = [], subtask = 'panoptic', ...thresholds },
      picture = {},
    ) {
      if (prompts.length + imagePrompts.length > 0) {
        throw new InvalidArgumentError(
          'Mask2Former segments by its own labels and takes no prompts; use a CLIPSeg model for prompts',
        );
      }
      const { threshold, maskThreshold, overlapMaskAreaThreshold } = thresholds;
      const found = await pipeline(image, { subtask, threshold, maskThreshold, overlapMaskAreaThreshold });
      const masks: LabelledMask[] = [];
      const segments: SegmentSummary[] = [];
      for (const { label, score, mask } of found) {
        let inside = 0;
        for (const v of mask.data) if (v > 0) inside++;
        if (inside === 0) continue;
        masks.push({ label, score, mask: mask.data });
        segments.push({
          label,
          score: score === null ? null : round(score),
          area: share(inside, mask.data.length),
        });
      }
      return {
        model_type: 'mask2former',
        subtask,
        segments,
        empty_segments: found.length - segments.length,
        picture: await annotateImage(image, { masks }, picture),
      };
    },
    dispose: () => pipeline.dispose(),
  };
}

const loaders = { clipseg: clipsegSegmenter, mask2former: mask2formerSegmenter };

/** Loads CLIPSeg or Mask2Former, whichever the model's config.json `model_type` names. */
export async function loadSegmenter(model: string, options: PretrainedOptions): Promise<Segmenter> {
  const config = await PretrainedConfig.fromPretrained(model, options);
  const type = config.model_type;
  if (type !== 'clipseg' && type !== 'mask2former') {
    throw new ModelNotFoundError(
      `${model} is a '${type}' model; this example segments with ${Object.keys(loaders).join(', ')}`,
    );
  }
  return loaders[type](model, options);
}
