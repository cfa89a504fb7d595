import {
  type BoundingBox,
  type Image,
  InvalidArgumentError,
  type PictureOptions,
  type PretrainedOptions,
  annotateImage,
} from '@ortvision/core';
import { imageGuidedObjectDetection, zeroShotObjectDetection } from '@ortvision/owlv2';

/** What to look for: text queries (zero-shot) or an example image (image-guided), not both. */
export interface DetectRequest {
  labels?: readonly string[];
  queryImage?: Image;
  /** Keep boxes scoring above this (zero-shot: sigmoid score; image-guided: display alpha, best box = 1). */
  threshold: number;
  /** Image-guided only: boxes overlapping a better one by more than this IoU are dropped (default 0.3). */
  nmsThreshold?: number;
}

export interface DetectedObject {
  label: string;
  score: number;
  /** In pixels of the input image, as the model gives it: it may reach past the image's edges. */
  box: BoundingBox;
}

export interface DetectResult {
  mode: 'zero-shot' | 'image-guided';
  detections: DetectedObject[];
  /**
   * How many boxes reach past the image's edges (OWLv2 predicts on the image padded to a square, so some do): they
   * are drawn clipped, labelled "(clipped)" or, when entirely outside, "(outside the image)" on the nearest edge.
   */
  outside_image: number;
  /** The image with each box drawn and labelled: PNG bytes, or as `picture` asked. */
  picture: Buffer;
}

export interface Detector {
  detect(image: Image, request: DetectRequest, picture?: PictureOptions): Promise<DetectResult>;
  dispose(): Promise<void>;
}

/** What an image-guided box is labelled with, since the query has no words. */
export const QUERY_LABEL = 'query';

/**
 * An OWLv2 detector for both modes. Each mode's pipeline is loaded on first use: zero-shot needs `model.onnx`
 * (or the split graphs), image-guided needs the split graphs, and a web server may never use one of them.
 */
export function createDetector(model: string, options: PretrainedOptions): Detector {
  let zeroShot: ReturnType<typeof zeroShotObjectDetection> | undefined;
  let imageGuided: ReturnType<typeof imageGuidedObjectDetection> | undefined;

  async function find(
    image: Image,
    request: DetectRequest,
  ): Promise<Pick<DetectResult, 'mode' | 'detections'>> {
    const { labels, queryImage, threshold, nmsThreshold } = request;
    if ((labels === undefined) === (queryImage === undefined)) {
      throw new InvalidArgumentError('give either text labels or a query image to look for (one of the two)');
    }
    if (labels !== undefined) {
      zeroShot ??= zeroShotObjectDetection(model, options);
      const found = await (await zeroShot)(image, labels, { threshold });
      return { mode: 'zero-shot', detections: found.map(({ label, score, box }) => ({ label, score, box })) };
    }
    imageGuided ??= imageGuidedObjectDetection(model, options);
    const found = await (await imageGuided)(image, queryImage!, { threshold, nmsThreshold });
    return {
      mode: 'image-guided',
      detections: found.map(({ score, box }) => ({ label: QUERY_LABEL, score, box })),
    };
  }

  return {
    async detect(image, request, picture = {}) {
      const result = await find(image, request);
      const outside = result.detections.filter(
        ({ box }) => box.xmin < 0 || box.ymin < 0 || box.xmax > image.width || box.ymax > image.height,
      ).length;
      return {
        ...result,
        outside_image: outside,
        picture: await annotateImage(image, { boxes: result.detections }, picture),
      };
    },
    async dispose() {
      const loaded = await Promise.allSettled([zeroShot, imageGuided]);
      for (const pipeline of loaded) if (pipeline.status === 'fulfilled') await pipeline.value?.dispose();
    },
  };
}
