import type { Tensor } from '@ortvision/core';
import {
  type JsonValue,
  compareJson,
  fixtureImagePath,
  fixturePath,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { expect } from 'vitest';

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
