import {
  type DeviceOption,
  type Image,
  InvalidArgumentError,
  type LabelScore,
  type PictureOptions,
  type PretrainedOptions,
  progressBar,
  selectDevice,
} from '@ortvision/core';
import { loadClassifier } from '@ortvision/example-classify';
import { createDetector } from '@ortvision/example-detect';
import { loadSegmenter } from '@ortvision/example-segment';
import { captionedPicture, repoFixture } from '@ortvision/example-shared';
import { loadRanker } from '@ortvision/example-zero-shot';

export const tasks = ['classify', 'detect', 'segment', 'zero-shot'] as const;
export type Task = (typeof tasks)[number];

/** Which model each task uses; `segment` uses CLIPSeg when prompts are given and Mask2Former otherwise. */
export interface WebModels {
  classify: string;
  detect: string;
  clipseg: string;
  mask2former: string;
  zeroShot: string;
}

export const defaultModels: WebModels = {
  // The one fixture trained for real: it reads handwritten digits. The others have random weights.
  classify: repoFixture('vit-digits'),
  detect: repoFixture('owlv2'),
  clipseg: repoFixture('clipseg'),
  mask2former: repoFixture('mask2former'),
  zeroShot: repoFixture('altclip'),
};

/**
 * The longest side of the pictures the page gets back: a 10000x10000 upload would otherwise come back as a 240 MB
 * PNG data URL. The JSON keeps the input image's pixels.
 */
export const PICTURE_MAX_SIDE = 1280;

const picture: PictureOptions = { maxSide: PICTURE_MAX_SIDE };

export interface TaskResult {
  /** What the task found, as the CLI examples print it (without the picture). */
  result: unknown;
  /** PNG bytes of the annotated image, at most `PICTURE_MAX_SIDE` pixels on its longest side. */
  picture: Buffer;
}

interface Loaded {
  run(image: Image, prompts: string[]): Promise<TaskResult>;
  dispose(): Promise<void>;
}

function needPrompts(task: Task, what: string, prompts: string[]): void {
  if (prompts.length === 0) {
    throw new InvalidArgumentError(`${task} needs ${what} in prompts (comma-separated), got none`);
  }
}

/**
 * The models behind the page, each loaded on its first request and then kept: a server answers many requests,
 * and loading is the slow part. A load that fails is forgotten so that the next request tries again.
 */
export class TaskRunner {
  readonly #models: WebModels;
  readonly #options: PretrainedOptions;
  readonly #loaded = new Map<string, Promise<Loaded>>();

  /** Throws `DeviceUnavailableError` at once for a device this machine cannot run (`cuda` without CUDA). */
  constructor(models: Partial<WebModels> = {}, device: DeviceOption = 'cpu') {
    selectDevice(device);
    this.#models = { ...defaultModels, ...models };
    this.#options = { device, onProgress: progressBar() };
  }

  async run(task: Task, image: Image, prompts: string[]): Promise<TaskResult> {
    if (task === 'detect') needPrompts(task, 'the objects to look for', prompts);
    if (task === 'zero-shot') needPrompts(task, 'candidate labels', prompts);
    const key = task === 'segment' ? (prompts.length > 0 ? 'clipseg' : 'mask2former') : task;
    return (await this.#model(key)).run(image, prompts);
  }

  #model(key: string): Promise<Loaded> {
    let loading = this.#loaded.get(key);
    if (!loading) {
      loading = this.#load(key);
      loading.catch(() => this.#loaded.delete(key));
      this.#loaded.set(key, loading);
    }
    return loading;
  }

  async #load(key: string): Promise<Loaded> {
    const options = this.#options;
    const models = this.#models;
    switch (key) {
      case 'classify': {
        const { classify } = await loadClassifier(models.classify, options);
        return {
          async run(image) {
            const labels = await classify(image, { topK: 3 });
            return { result: { labels }, picture: await captionedPicture(image, labels, picture) };
          },
          dispose: () => classify.dispose(),
        };
      }
      case 'detect': {
        const detector = createDetector(models.detect, options);
        return {
          async run(image, labels) {
            const { picture: png, ...result } = await detector.detect(
              image,
              { labels, threshold: 0.1 },
              picture,
            );
            return { result, picture: png };
          },
          dispose: () => detector.dispose(),
        };
      }
      case 'zero-shot': {
        const ranker = await loadRanker(models.zeroShot, options);
        return {
          async run(image, labels) {
            const { picture: png, ...result } = await ranker.rank(image, { labels }, picture);
            return { result, picture: png };
          },
          dispose: () => ranker.dispose(),
        };
      }
      default: {
        const segmenter = await loadSegmenter(
          key === 'clipseg' ? models.clipseg : models.mask2former,
          options,
        );
        return {
          async run(image, prompts) {
            const { picture: png, ...result } = await segmenter.segment(image, { prompts }, picture);
            return { result, picture: png };
          },
          dispose: () => segmenter.dispose(),
        };
      }
    }
  }

  async dispose(): Promise<void> {
    const loaded = await Promise.allSettled(this.#loaded.values());
    this.#loaded.clear();
    for (const entry of loaded) if (entry.status === 'fulfilled') await entry.value.dispose();
  }
}
