import { InputShapeError } from '../../errors.js';
import type { NamedTensors } from '../../runtime/session.js';
import { Tensor } from '../../tensor/tensor.js';
import { describeValue } from '../../validation/describe-value.js';

// Type aliases, not interfaces: aliases are assignable to `NamedTensors` records.

/** A text tower's inputs: int64 [batch, seq] token ids; the mask (1 = token, 0 = padding) defaults to all ones. */
export type CLIPTextInputs = { input_ids: Tensor<'int64'>; attention_mask?: Tensor<'int64'> };

/** An image tower's input: float32 [batch, channels, height, width] from the family's image processor. */
export type CLIPVisionInputs = { pixel_values: Tensor<'float32'> };

/** What the input checks need to know of a text tower (its config's `text_config`). */
export interface CLIPTextLimits {
  /** How many positions the tower has (config.json's field, named in messages). */
  readonly max_position_embeddings: number;
  /** The longest `input_ids` row it embeds (less than the positions when they start after the padding index). */
  readonly maxSequenceLength: number;
}

/** What the input checks need to know of an image tower (its config's `vision_config`). */
export interface CLIPVisionLimits {
  readonly num_channels: number;
  readonly image_size: number;
  /** True when the tower interpolates its position embeddings, so any height and width are accepted. */
  readonly interpolatesPositionEmbeddings: boolean;
}

function describeInput(value: unknown): string {
  return value instanceof Tensor ? `${value.dtype} [${value.dims.join(', ')}]` : describeValue(value);
}

/**
 * `input_ids` / `attention_mask` checked before ONNX Runtime sees them, the mask filled with ones when absent. A row
 * longer than the tower's positions is refused here: inside the graph it would be an index out of range.
 *
 * @example
 * ```ts
 * const feeds = clipTextFeeds({ input_ids }, config.text_config); // { input_ids, attention_mask }
 * ```
 */
export function clipTextFeeds(
  { input_ids, attention_mask }: CLIPTextInputs,
  limits: CLIPTextLimits,
): { input_ids: Tensor<'int64'>; attention_mask: Tensor<'int64'> } {
  if (!(input_ids instanceof Tensor) || input_ids.dtype !== 'int64' || input_ids.rank !== 2) {
    throw new InputShapeError(
      `input_ids must be an int64 Tensor [batch, seq] (the processor's tokenizer gives one), got ${describeInput(input_ids)}`,
    );
  }
  const [batch, seq] = input_ids.dims as [number, number];
  const limit = limits.maxSequenceLength;
  if (seq > limit) {
    throw new InputShapeError(
      `input_ids has ${seq} tokens per text, but the text tower has positions for at most ${limit} (max_position_embeddings ${limits.max_position_embeddings}); tokenize with truncation: true`,
    );
  }
  if (attention_mask === undefined) {
    return {
      input_ids,
      attention_mask: new Tensor('int64', new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
    };
  }
  if (
    !(attention_mask instanceof Tensor) ||
    attention_mask.dtype !== 'int64' ||
    attention_mask.dims.join() !== input_ids.dims.join()
  ) {
    throw new InputShapeError(
      `attention_mask must be an int64 Tensor shaped like input_ids [${batch}, ${seq}], got ${describeInput(attention_mask)}`,
    );
  }
  return { input_ids, attention_mask };
}

/**
 * `pixel_values` (or `conditional_pixel_values`, as `name` says) checked as float32 [batch, channels, H, W], with
 * H = W = `image_size` unless the tower interpolates its position embeddings.
 *
 * @example
 * ```ts
 * const pixels = clipPixelValues(inputs.pixel_values, config.vision_config); // throws InputShapeError when wrong
 * ```
 */
export function clipPixelValues(
  pixels: unknown,
  limits: CLIPVisionLimits,
  name = 'pixel_values',
): Tensor<'float32'> {
  const { num_channels: c, image_size: size, interpolatesPositionEmbeddings: anySize } = limits;
  const ok =
    pixels instanceof Tensor &&
    pixels.dtype === 'float32' &&
    pixels.rank === 4 &&
    pixels.dims[1] === c &&
    (anySize || (pixels.dims[2] === size && pixels.dims[3] === size));
  if (!ok) {
    const expected = anySize
      ? `[batch, ${c}, height, width]`
      : `[batch, ${c}, ${size}, ${size}] (vision_config.image_size)`;
    throw new InputShapeError(`${name} must be a float32 Tensor ${expected}, got ${describeInput(pixels)}`);
  }
  return pixels as Tensor<'float32'>;
}

/**
 * A graph's float32 output checked by name and, where given, shape: another model's graph in its place gives other
 * names or shapes, which would otherwise surface as wrong numbers further on.
 *
 * @param expected the dims with what they stand for, e.g. `{ dims: [2, 512], meaning: 'batch, config projection_dim' }`.
 * @example
 * ```ts
 * const embeds = graphOutput(outputs, 'text_embeds', 'text_model', { dims: [2, 512], meaning: 'batch, config projection_dim' });
 * ```
 */
export function graphOutput(
  outputs: NamedTensors,
  name: string,
  graph: string,
  expected?: { dims: readonly number[]; meaning: string },
): Tensor<'float32'> {
  const tensor = outputs[name];
  const shapeOk = expected === undefined || tensor?.dims.join() === expected.dims.join();
  if (tensor?.dtype !== 'float32' || !shapeOk) {
    const has = `(it has: ${Object.keys(outputs).join(', ') || 'nothing'})`;
    if (expected === undefined) {
      throw new InputShapeError(`the ${graph} graph returned no float32 '${name}' ${has}`);
    }
    const got = tensor ? `${name} ${tensor.dtype} [${tensor.dims.join(', ')}]` : `no '${name}' ${has}`;
    throw new InputShapeError(
      `the ${graph} graph returned ${got}, expected float32 [${expected.dims.join(', ')}] (${expected.meaning})`,
    );
  }
  return tensor as Tensor<'float32'>;
}
