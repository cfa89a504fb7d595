import {
  LevitForImageClassificationWithTeacher,
  LevitImageProcessor,
  imageClassification,
} from '@ortvision/levit';
import { classifierSuite, sessionOptions } from './common.js';
import type { Suite } from './harness.js';

// LeViT-256 (with teacher: logits are the mean of both heads) on the full-size architecture: ortvision's task
// helper, its split and the floor. transformers.js has no LeViT, so there is no third column.

export const run: Suite = ({ quick }) =>
  classifierSuite(
    {
      suite: 'levit',
      label: 'LeViT-256',
      hubId: 'facebook/levit-256',
      loadModel: (dir) => LevitForImageClassificationWithTeacher.fromPretrained(dir, { sessionOptions }),
      loadProcessor: (dir) => LevitImageProcessor.fromPretrained(dir),
      task: (model, processor) => imageClassification(model, { processor }),
      withTransformersJs: false,
    },
    quick,
  );
