import { ViTForImageClassification, ViTImageProcessor, imageClassification } from '@ortvision/vit';
import { benchModel, classifierSuite, coldStartComparison, photos, sessionOptions } from './common.js';
import type { Suite, SuiteResult } from './harness.js';

// ViT-B/16 on the full-size architecture (models/google/vit-base-patch16-224, from shared/bench-models: real
// compute, regenerated weights): ortvision's task helper, its split, transformers.js's pipeline on the same graph
// and image, the floor; then cold start (fresh process: import + load + first result) against transformers.js.

const hubId = 'google/vit-base-patch16-224';

export const run: Suite = async ({ quick }) => {
  const results: SuiteResult[] = await classifierSuite(
    {
      suite: 'vit',
      label: 'ViT-B/16',
      hubId,
      loadModel: (dir) => ViTForImageClassification.fromPretrained(dir, { sessionOptions }),
      loadProcessor: (dir) => ViTImageProcessor.fromPretrained(dir),
      task: (model, processor) => imageClassification(model, { processor }),
      withTransformersJs: true,
    },
    quick,
  );
  const [photo] = await photos(true);
  results.push(
    await coldStartComparison(
      'vit',
      'ViT-B/16',
      'image-classification',
      benchModel(hubId),
      photo!.bytes,
      quick ? 1 : 5,
    ),
  );
  return results;
};
