import {
  PerceiverForImageClassificationLearned,
  PerceiverImageProcessor,
  imageClassification,
} from '@ortvision/perceiver';
import { classifierSuite, sessionOptions } from './common.js';
import type { Suite } from './harness.js';

// Perceiver IO with learned position embeddings (deepmind/vision-perceiver-learned) on the full-size
// architecture: ortvision's task helper, its split and the floor. transformers.js has no Perceiver. About 3 s a
// run on 2 cores, so it warms up once and the split does not re-run session.run.

export const run: Suite = ({ quick }) =>
  classifierSuite(
    {
      suite: 'perceiver',
      label: 'Perceiver-learned',
      hubId: 'deepmind/vision-perceiver-learned',
      loadModel: (dir) => PerceiverForImageClassificationLearned.fromPretrained(dir, { sessionOptions }),
      loadProcessor: (dir) => PerceiverImageProcessor.fromPretrained(dir),
      task: (model, processor) => imageClassification(model, { processor }),
      withTransformersJs: false,
      slow: true,
    },
    quick,
  );
