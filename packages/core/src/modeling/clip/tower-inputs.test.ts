import { describe, expect, it } from 'vitest';
import { InputShapeError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { clipPixelValues, clipTextFeeds, graphOutput } from './tower-inputs.js';

const ids = (batch: number, seq: number) =>
  new Tensor('int64', new BigInt64Array(batch * seq).fill(5n), [batch, seq]);
const pixels = (...dims: number[]) =>
  new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);
const text = { max_position_embeddings: 10, maxSequenceLength: 8 };
const vision = { num_channels: 3, image_size: 4, interpolatesPositionEmbeddings: false };

describe('clipTextFeeds', () => {
  it('fills a mask of ones when none is given and keeps a given one', () => {
    const { attention_mask } = clipTextFeeds({ input_ids: ids(2, 3) }, text);
    expect(attention_mask.dims).toEqual([2, 3]);
    expect(Array.from(attention_mask.data)).toEqual(Array(6).fill(1n));
    const mask = ids(2, 3);
    expect(clipTextFeeds({ input_ids: ids(2, 3), attention_mask: mask }, text).attention_mask).toBe(mask);
  });

  it('refuses rows longer than the tower takes, wrong dtypes and a mask of another shape', () => {
    expect(() => clipTextFeeds({ input_ids: ids(1, 9) }, text)).toThrowError(
      new InputShapeError(
        'input_ids has 9 tokens per text, but the text tower has positions for at most 8 (max_position_embeddings 10); tokenize with truncation: true',
      ),
    );
    const int32 = new Tensor('int32', new Int32Array(3), [1, 3]) as unknown as Tensor<'int64'>;
    expect(() => clipTextFeeds({ input_ids: int32 }, text)).toThrowError(
      new InputShapeError(
        "input_ids must be an int64 Tensor [batch, seq] (the processor's tokenizer gives one), got int32 [1, 3]",
      ),
    );
    expect(() => clipTextFeeds({ input_ids: ids(2, 3), attention_mask: ids(2, 4) }, text)).toThrowError(
      new InputShapeError(
        'attention_mask must be an int64 Tensor shaped like input_ids [2, 3], got int64 [2, 4]',
      ),
    );
  });
});

describe('clipPixelValues', () => {
  it('takes image_size only, unless the tower interpolates its positions', () => {
    expect(clipPixelValues(pixels(2, 3, 4, 4), vision).dims).toEqual([2, 3, 4, 4]);
    expect(() => clipPixelValues(pixels(1, 3, 8, 8), vision)).toThrowError(
      new InputShapeError(
        'pixel_values must be a float32 Tensor [batch, 3, 4, 4] (vision_config.image_size), got float32 [1, 3, 8, 8]',
      ),
    );
    const anySize = { ...vision, interpolatesPositionEmbeddings: true };
    expect(clipPixelValues(pixels(1, 3, 8, 6), anySize).dims).toEqual([1, 3, 8, 6]);
    expect(() => clipPixelValues(pixels(3, 8, 8), anySize, 'conditional_pixel_values')).toThrowError(
      new InputShapeError(
        'conditional_pixel_values must be a float32 Tensor [batch, 3, height, width], got float32 [3, 8, 8]',
      ),
    );
    expect(() => clipPixelValues([1, 2], anySize)).toThrow(/got \[1, 2\]/);
  });
});

describe('graphOutput', () => {
  it('returns the named float32 output, checked against the expected shape when given', () => {
    const embeds = pixels(2, 4);
    const expected = { dims: [2, 4], meaning: 'batch, config projection_dim' };
    expect(graphOutput({ text_embeds: embeds }, 'text_embeds', 'text_model', expected)).toBe(embeds);
    expect(() => graphOutput({ logits: embeds }, 'text_embeds', 'text_model', expected)).toThrowError(
      new InputShapeError(
        "the text_model graph returned no 'text_embeds' (it has: logits), expected float32 [2, 4] (batch, config projection_dim)",
      ),
    );
    expect(() =>
      graphOutput({ text_embeds: pixels(2, 5) }, 'text_embeds', 'text_model', expected),
    ).toThrowError(
      new InputShapeError(
        'the text_model graph returned text_embeds float32 [2, 5], expected float32 [2, 4] (batch, config projection_dim)',
      ),
    );
    expect(() => graphOutput({ logits: embeds }, 'pred_boxes', 'model')).toThrowError(
      new InputShapeError("the model graph returned no float32 'pred_boxes' (it has: logits)"),
    );
  });
});
