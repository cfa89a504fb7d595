import type { Tensor } from '@ortvision/core';
import { type JsonValue, fixtureImagePath, fixturePath, loadFixture, readNpy } from '@ortvision/core/testing';
import { expect } from 'vitest';

/** The owlv2 fixture: its folder, manifest, and readers for its tensors and images. */
export const FIXTURE = 'owlv2';
export const dir = fixturePath(FIXTURE);
export const { manifest } = await loadFixture(dir);
export const npy = (relative: string): Promise<Tensor> => readNpy(fixturePath(FIXTURE, relative));
export const image = (name: string): string => fixtureImagePath(name);

/**
 * Compares a result with a manifest's expected JSON: numbers within atol, `{ npy }` references element-wise,
 * everything else exactly (the conformance runner's rules, in vitest's terms).
 */
export async function expectJsonClose(
  actual: unknown,
  expected: JsonValue,
  atol: number,
  path = '$',
): Promise<void> {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected) && 'npy' in expected) {
    const reference = await npy(expected.npy as string);
    const values = flatten(actual);
    expect(values.length, `${path}: count`).toBe(reference.size);
    const data = reference.toNumbers();
    values.forEach((v, i) => {
      expect(Math.abs(v - data[i]!), `${path}[${i}]: ${v} vs ${data[i]}`).toBeLessThanOrEqual(atol);
    });
    return;
  }
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
      atol,
    );
    return;
  }
  if (Array.isArray(expected)) {
    const items = ArrayBuffer.isView(actual) ? Array.from(actual as Float32Array) : (actual as unknown[]);
    expect(Array.isArray(items), `${path}: an array`).toBe(true);
    expect(items.length, `${path}: length`).toBe(expected.length);
    for (let i = 0; i < expected.length; i++)
      await expectJsonClose(items[i], expected[i]!, atol, `${path}[${i}]`);
    return;
  }
  if (expected === null || typeof expected !== 'object') {
    expect(actual, path).toBe(expected);
    return;
  }
  const record = actual as Record<string, unknown>;
  expect(Object.keys(record).sort(), `${path}: keys`).toEqual(Object.keys(expected).sort());
  for (const key of Object.keys(expected))
    await expectJsonClose(record[key], expected[key]!, atol, `${path}.${key}`);
}

function flatten(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value && typeof value === 'object' && 'dims' in value && 'data' in value) {
    return (value as Tensor).toNumbers();
  }
  if (ArrayBuffer.isView(value)) return Array.from(value as Float32Array);
  if (Array.isArray(value)) return value.flatMap(flatten);
  throw new Error(`expected numbers, got ${JSON.stringify(value)}`);
}
