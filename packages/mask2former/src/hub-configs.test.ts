import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describeCheckpointGraphs } from '@ortvision/core';
import { readWeightsShapes, weightsShapesCheckpoint } from '@ortvision/core/testing';
import { describe, expect, it } from 'vitest';
import {
  type Mask2FormerShapeConfig,
  mask2formerConfigJson,
  mask2formerWeightsShapes,
} from './__fixtures__/state-dict-shapes.js';
import { Mask2FormerConfig } from './config.js';
import { Mask2FormerForUniversalSegmentation } from './modeling.js';

// The real checkpoints' configs: graphs described (not written: describing reads only the index) on checkpoints
// that have the real key sets and shapes, so that every key is read at the shape the config implies and none is
// left over. Swin-T's config.json and weights-shapes.json are the Hub checkpoint's (the bench model); the other
// backbones and label sets are written from the model cards' values.

const benchModel = fileURLToPath(
  new URL('../../../tooling/bench/models/facebook/mask2former-swin-tiny-coco-instance/', import.meta.url),
);

/** Describes the class's graph on a shapes-only checkpoint and returns its boundary. */
function describeOn(config: Mask2FormerConfig, shapes: Parameters<typeof weightsShapesCheckpoint>[0]) {
  const described = describeCheckpointGraphs(
    Mask2FormerForUniversalSegmentation,
    config,
    weightsShapesCheckpoint(shapes),
    'fp32',
  );
  const { graph } = described.graphs.model!;
  return [...graph.inputs, ...graph.outputs].map((v) => [v.value.name, v.dims]);
}

const TINY: Mask2FormerShapeConfig = {
  embedDim: 96,
  depths: [2, 2, 6, 2],
  numHeads: [3, 6, 12, 24],
  windowSize: 7,
  numLabels: 80,
};

describe('Mask2Former graphs of the Hub checkpoints’ configs', () => {
  it('facebook/mask2former-swin-tiny-coco-instance: its config.json and weights-shapes.json (566 weights)', async () => {
    const config = await Mask2FormerConfig.fromPretrained(benchModel);
    const shapes = await readWeightsShapes(`${benchModel}weights-shapes.json`);
    expect(Object.keys(shapes.tensors)).toHaveLength(566);
    expect(describeOn(config, shapes)).toEqual([
      ['pixel_values', ['batch_size', 3, 'height', 'width']],
      ['class_queries_logits', ['batch_size', 100, 81]],
      ['masks_queries_logits', ['batch_size', 100, 'mask_height', 'mask_width']],
    ]);
  });

  it('the state dict restated from the module tree is the real Swin-T checkpoint’s, key for key', async () => {
    const real = await readWeightsShapes(`${benchModel}weights-shapes.json`);
    const restated = mask2formerWeightsShapes(TINY);
    const entries = (s: typeof real) =>
      Object.entries(s.tensors)
        .map(([key, { dtype, shape }]) => `${key} ${dtype} [${shape.join(', ')}]`)
        .sort();
    expect(entries(restated)).toEqual(entries(real));
    // And the config written from the card's values reads as the Hub's does, where the graph looks.
    const written = new Mask2FormerConfig(mask2formerConfigJson(TINY)).swinConfig;
    const hub = (await Mask2FormerConfig.fromPretrained(benchModel)).swinConfig;
    for (const field of [
      'embed_dim',
      'depths',
      'num_heads',
      'window_size',
      'mlp_ratio',
      'patch_size',
    ] as const) {
      expect(written[field], field).toEqual(hub[field]);
    }
  });

  it.each([
    ['swin-small-coco-instance', { ...TINY, depths: [2, 2, 18, 2] }],
    [
      'swin-base-coco-panoptic',
      { embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], windowSize: 12, numLabels: 133 },
    ],
    [
      'swin-base-IN21k-ade-semantic',
      { embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32], windowSize: 12, numLabels: 150 },
    ],
    [
      'swin-large-ade-semantic',
      { embedDim: 192, depths: [2, 2, 18, 2], numHeads: [6, 12, 24, 48], windowSize: 12, numLabels: 150 },
    ],
    [
      'swin-large-coco-panoptic (200 queries)',
      {
        embedDim: 192,
        depths: [2, 2, 18, 2],
        numHeads: [6, 12, 24, 48],
        windowSize: 12,
        numLabels: 133,
        numQueries: 200,
      },
    ],
  ] as [string, Mask2FormerShapeConfig][])('facebook/mask2former-%s', (_name, shape) => {
    const config = new Mask2FormerConfig(mask2formerConfigJson(shape));
    const queries = shape.numQueries ?? 100;
    expect(describeOn(config, mask2formerWeightsShapes(shape))).toEqual([
      ['pixel_values', ['batch_size', 3, 'height', 'width']],
      ['class_queries_logits', ['batch_size', queries, shape.numLabels + 1]],
      ['masks_queries_logits', ['batch_size', queries, 'mask_height', 'mask_width']],
    ]);
  });

  it('a config without backbone_config is transformers’ default Swin (Swin-S depths)', async () => {
    const json = JSON.parse(await readFile(`${benchModel}config.json`, 'utf8'));
    const { backbone_config: _, ...rest } = json;
    const config = new Mask2FormerConfig(rest);
    expect(config.swinConfig.depths).toEqual([2, 2, 18, 2]);
    expect(() =>
      describeOn(config, mask2formerWeightsShapes({ ...TINY, depths: [2, 2, 18, 2] })),
    ).not.toThrow();
  });
});
