import { describe, expect, it } from 'vitest';
import { type SuiteResult, median, medianOf, overheadShare, ratio, round, toMarkdown } from './harness.js';

function result(medians: Record<string, number>): SuiteResult {
  return {
    suite: 's',
    case: 'c',
    iterations: 1,
    variants: Object.entries(medians).map(([name, m]) => ({
      name,
      samplesMs: [m],
      medianMs: m,
      minMs: m,
      maxMs: m,
    })),
    peakRssMiB: 1,
  };
}

describe('harness', () => {
  it('takes the median of odd and even counts without reordering its input', () => {
    const values = [5, 1, 3];
    expect(median(values)).toBe(3);
    expect(values).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('computes the overhead share and ratios the goals are stated in', () => {
    expect(overheadShare(100, 95)).toBeCloseTo(0.05);
    expect(overheadShare(90, 95)).toBeLessThan(0); // noise can put the floor above end to end
    expect(ratio(80, 100)).toBe(0.8);
    expect(round(0.123456)).toBe(0.1235);
  });

  it('finds a variant by name and names the others when it is missing', () => {
    const r = result({ a: 10, b: 20 });
    expect(medianOf(r, 'b')).toBe(20);
    expect(() => medianOf(r, 'x')).toThrow(/a, b/);
  });

  it('prints ratios and notes under the table', () => {
    const r = { ...result({ a: 10, b: 20 }), ratios: { share: 0.5 }, notes: ['why'] };
    const text = toMarkdown(r);
    expect(text).toContain('| b | 20.00 | 20.00 | 20.00 | 2.00x |');
    expect(text).toContain('- share: **0.5**');
    expect(text).toContain('- note: why');
  });
});
