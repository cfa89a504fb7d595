import { zeroShotImageClassification } from '@ortvision/altclip';
import type { Image, LabelScore, PictureOptions, PretrainedOptions } from '@ortvision/core';
import { captionedPicture } from '@ortvision/example-shared';

/** The labels to rank and how each is put into a sentence (`{}` stands for the label). */
export interface RankRequest {
  labels: readonly string[];
  hypothesisTemplate?: string;
  topK?: number;
}

export interface RankResult {
  /** Best first; the scores are a softmax over the given labels, so they sum to 1. */
  labels: LabelScore[];
  /** The image with the ranking captioned underneath: PNG bytes, or as `picture` asked. */
  picture: Buffer;
}

export interface Ranker {
  rank(image: Image, request: RankRequest, picture?: PictureOptions): Promise<RankResult>;
  dispose(): Promise<void>;
}

/** AltCLIP's zero-shot classifier: its text tower is multilingual, so the labels can be in any language it reads. */
export async function loadRanker(model: string, options: PretrainedOptions): Promise<Ranker> {
  const classify = await zeroShotImageClassification(model, options);
  return {
    async rank(image, { labels, hypothesisTemplate, topK }, picture = {}) {
      const ranked = await classify(image, labels, { hypothesisTemplate, topK });
      return { labels: ranked, picture: await captionedPicture(image, ranked, picture) };
    },
    dispose: () => classify.dispose(),
  };
}
