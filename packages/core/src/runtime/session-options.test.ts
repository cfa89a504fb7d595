import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultSessionOptions, physicalCoreCount } from './session-options.js';

describe('defaultSessionOptions', () => {
  it('uses physical cores and the extended graph optimizations (measured faster than all), and lets the caller override', () => {
    const cores = physicalCoreCount();
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(cores).toBeLessThanOrEqual(availableParallelism());
    expect(defaultSessionOptions()).toMatchObject({
      intraOpNumThreads: cores,
      graphOptimizationLevel: 'extended',
    });
    expect(defaultSessionOptions({ intraOpNumThreads: 1, graphOptimizationLevel: 'basic' })).toMatchObject({
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'basic',
    });
  });
});
