import { describe, expect, it } from 'vitest';
import { AbortedError, InvalidImageError, OrtVisionError } from '../errors.js';
import { Image } from '../image/image.js';
import { Tensor } from '../tensor/tensor.js';
import { decodeWorkerValue, encodeWorkerValue, reviveError, serializeError } from './worker-values.js';

/** What the other thread receives: the encoded value through structured clone, decoded. */
const roundTrip = (value: unknown) => decodeWorkerValue(structuredClone(encodeWorkerValue(value)));

describe('values crossing worker threads', () => {
  it('keep Tensors, Images and URLs as their classes, anywhere in arrays and plain objects', () => {
    const value = {
      labels: [{ label: 'cat', score: 0.5 }],
      nested: [[new Tensor('float32', Float32Array.from([1.5, 2]), [2])]],
      mask: new Image(Uint8Array.from([0, 255]), 2, 1, 1),
      url: new URL('https://example.com/a.png'),
      bytes: Uint8Array.from([1, 2, 3]),
    };
    const back = roundTrip(value) as typeof value;
    const tensor = back.nested[0]![0]!;
    expect(tensor).toBeInstanceOf(Tensor);
    expect(tensor.dtype).toBe('float32');
    expect([...tensor.data]).toEqual([1.5, 2]);
    expect(back.mask).toBeInstanceOf(Image);
    expect([back.mask.width, back.mask.height, back.mask.channels]).toEqual([2, 1, 1]);
    expect(back.url).toBeInstanceOf(URL);
    expect(back.url.href).toBe('https://example.com/a.png');
    expect(back.labels).toEqual(value.labels);
    expect(back.bytes).toEqual(Uint8Array.from([1, 2, 3]));
  });

  it("keep ortvision's error classes, AbortedError's timedOut, and the name and stack of others", () => {
    const invalid = reviveError(serializeError(new InvalidImageError('cannot decode "x.heic"')));
    expect(invalid).toBeInstanceOf(InvalidImageError);
    expect(invalid).toBeInstanceOf(OrtVisionError);
    expect(invalid.message).toBe('cannot decode "x.heic"');
    const timeout = reviveError(serializeError(new AbortedError('run timed out', { timedOut: true })));
    expect(timeout).toBeInstanceOf(AbortedError);
    expect((timeout as AbortedError).timedOut).toBe(true);
    const bug = new TypeError('x is undefined');
    const revived = reviveError(serializeError(bug));
    expect(revived.name).toBe('TypeError');
    expect(revived.stack).toBe(bug.stack);
    expect(reviveError(serializeError('a string was thrown'))).toMatchObject({
      name: 'Error',
      message: 'a string was thrown',
    });
    expect(roundTrip({ error: new InvalidImageError('bad') })).toEqual({
      error: expect.any(InvalidImageError),
    });
  });
});
