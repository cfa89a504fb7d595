/**
 * `true` when an inputs object of type `I` surely has `K` set (declared, not optional, not `undefined` or `null`),
 * `false` when it may lack it. Multimodal processors use it to type their outputs by what was passed, so that the
 * tensors of the inputs given are not optional and `model.forward(await processor.process({ text, images }))`
 * type-checks under `--strict`.
 *
 * @example
 * ```ts
 * import type { IsGiven } from '@ortvision/core';
 *
 * type Inputs = { text?: string; images?: string };
 * const a: IsGiven<{ text: string }, 'text'> = true;
 * const b: IsGiven<Inputs, 'text'> = false;
 * ```
 */
export type IsGiven<I, K extends PropertyKey> = I extends { [key in K]-?: NonNullable<unknown> }
  ? true
  : false;
