import { ModelRunError } from '../errors.js';

/**
 * Throws `ModelRunError` when `values` (model outputs, or scores computed from them) hold NaN or an infinity: it
 * would otherwise reach results as `score: NaN` (null in JSON), or silently drop every box or segment whose
 * comparison with a threshold is false. `what` names the values in the message ('the logits of row 0').
 *
 * @example
 * checkFinite(outputs.logits.data, 'logits');
 */
export function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new ModelRunError(
        `${what} hold ${values[i]} at index ${i}: the model produced non-finite values (check preprocessor_config.json's image_mean / image_std, and whether an fp16 graph overflows)`,
      );
    }
  }
}
