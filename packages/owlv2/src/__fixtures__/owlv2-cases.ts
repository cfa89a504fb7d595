import type { Tensor } from '@ortvision/core';
import {
  type JsonValue,
  type PipelineCase,
  compareJson,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { expect } from 'vitest';
import type { ImageQuerySelection } from '../modeling.js';

/** The owlv2 fixture: its folder, manifest, and readers for its tensors and images. */
export const FIXTURE = 'owlv2';
export const dir = fixturePath(FIXTURE);
export const { manifest } = await loadFixture(dir);
export const npy = (relative: string): Promise<Tensor> => readNpy(fixturePath(FIXTURE, relative));
export const image = (name: string): string => fixtureImagePath(name);

/** Core's fixture comparator (`compareJson`) with this fixture's npy files, as a vitest assertion. */
export async function expectJsonClose(
  actual: unknown,
  expected: JsonValue,
  atol: number,
  path = '$',
): Promise<void> {
  const { ok, mismatch } = await compareJson(actual, expected, atol, npy, path);
  expect(ok, mismatch).toBe(true);
}

/** `embed_image_query`'s choices under the names the image-guided pipeline case stores them. */
export function pythonSelections(selections: readonly ImageQuerySelection[]) {
  return selections.map((s) => ({
    ious: s.ious,
    giou_fallback: s.giouFallback,
    iou_threshold: s.iouThreshold,
    selected_indices: s.selectedIndices,
    mean_class_embed: s.meanClassEmbed,
    mean_sim: s.meanSim,
    best_box_index: s.bestBoxIndex,
    query_embed: s.queryEmbed,
  }));
}

/**
 * The image-guided pipeline case's first result as `imageGuidedObjectDetection` gives it: best first, boxes truncated
 * to ints as the pipeline does.
 */
export function imageGuidedDetections(testCase: PipelineCase) {
  const [first] = (testCase.expected as { results: { scores: number[]; boxes: number[][] }[] }).results;
  return first!.scores
    .map((score, i) => {
      const [xmin, ymin, xmax, ymax] = first!.boxes[i]!.map(Math.trunc) as [number, number, number, number];
      return { score, box: { xmin, ymin, xmax, ymax } };
    })
    .sort((a, b) => b.score - a.score);
}
