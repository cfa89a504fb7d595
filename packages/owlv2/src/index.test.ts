import { describe, expect, it } from 'vitest';
import * as pkg from './index.js';

describe('@ortvision/owlv2', () => {
  it('declares the model_type it handles', () => {
    expect(pkg.MODEL_TYPE).toBe('owlv2');
  });
});
