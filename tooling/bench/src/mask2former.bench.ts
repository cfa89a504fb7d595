import { loadImage, toOrtTensor } from '@ortvision/core';
import {
  Mask2FormerForUniversalSegmentation,
  Mask2FormerImageProcessor,
  imageSegmentation,
} from '@ortvision/mask2former';
import {
  FLOOR,
  OURS,
  benchModel,
  benchOptions,
  endToEnd,
  floorSession,
  photos,
  sessionOptions,
} from './common.js';
import { type Suite, type SuiteResult, type Variant, compare, skippedResult } from './harness.js';

// Mask2Former Swin-T (COCO instance checkpoint's architecture) on the full-size graph: imageSegmentation
// (panoptic, the pipeline's default) end to end against the floor, and its split. transformers.js's Mask2Former
// is not compared (the issue names ViT, CLIPSeg and OWLv2). Each session takes ~50 s to create (19k nodes after
// optimization), and the bench needs two (ortvision's and the floor's), so quick mode skips this suite.

const hubId = 'facebook/mask2former-swin-tiny-coco-instance';

export const run: Suite = async ({ quick }) => {
  if (quick)
    return [
      skippedResult('mask2former', 'Mask2Former: skipped in quick mode (session creation ~50 s per session)'),
    ];
  const dir = benchModel(hubId);
  const started = performance.now();
  const model = await Mask2FormerForUniversalSegmentation.fromPretrained(dir, { sessionOptions });
  const loadMs = performance.now() - started;
  const processor = await Mask2FormerImageProcessor.fromPretrained(dir);
  const segment = await imageSegmentation(model);
  const floor = await floorSession(dir);
  const options = benchOptions(quick, { slow: true });
  const results: SuiteResult[] = [];
  try {
    for (const photo of await photos(quick)) {
      const image = await loadImage(photo.bytes);
      const { pixel_values } = await processor.preprocess(image);
      const ready = toOrtTensor(pixel_values);
      const outputs = await model.forward({ pixel_values });
      const variants: Variant[] = [
        { name: OURS, run: () => segment(photo.bytes) },
        { name: FLOOR, run: () => floor.run({ pixel_values: ready }) },
      ];
      const e2e = await endToEnd(
        'mask2former',
        `Mask2Former Swin-T ${photo.name}: end to end (panoptic)`,
        variants,
        options,
      );
      e2e.notes = [`ortvision model load (session creation) took ${Math.round(loadMs)} ms`];
      results.push(e2e);
      const split: Variant[] = [
        { name: 'ortvision decode+preprocess', run: () => processor.preprocess(photo.bytes) },
        {
          name: 'ortvision post-process (panoptic)',
          run: () =>
            processor.postProcessPanopticSegmentation(outputs, {
              threshold: 0.9,
              targetSizes: [[image.height, image.width]],
            }),
        },
      ];
      const splitResult = await compare(
        'mask2former',
        `Mask2Former Swin-T ${photo.name}: split`,
        split,
        options,
      );
      splitResult.notes = ['session.run is the floor of the end-to-end table (not re-run here)'];
      results.push(splitResult);
    }
  } finally {
    await segment.dispose();
    await model.dispose();
    await floor.release();
  }
  return results;
};
