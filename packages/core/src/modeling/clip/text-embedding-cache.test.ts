import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidArgumentError } from '../../errors.js';
import { LruCache, textEmbeddingCacheSize } from './text-embedding-cache.js';

describe('LruCache', () => {
  it('drops the least recently used entry beyond its capacity; get and set refresh an entry', () => {
    const cache = new LruCache<string, number>(3);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('d', 4); // drops b
    expect(cache.keys()).toEqual(['c', 'a', 'd']);
    cache.set('c', 30); // refreshes c
    cache.set('e', 5); // drops a
    expect(cache.keys()).toEqual(['d', 'c', 'e']);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, undefined, 30]);
    expect(cache.size).toBe(3);
  });

  it('keeps nothing with capacity 0, and refuses a capacity that is not an integer >= 0', () => {
    const cache = new LruCache<string, number>(0);
    cache.set('a', 1);
    expect([cache.size, cache.has('a')]).toEqual([0, false]);
    expect(() => new LruCache(-1)).toThrowError(
      new InvalidArgumentError('capacity must be an integer >= 0, got -1'),
    );
    expect(() => new LruCache(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('textEmbeddingCacheSize', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the fallback when unset and checks a given size', () => {
    expect(textEmbeddingCacheSize({}, 256)).toBe(256);
    expect(textEmbeddingCacheSize({ textEmbeddingCacheSize: 0 }, 256)).toBe(0);
    expect(() => textEmbeddingCacheSize({ textEmbeddingCacheSize: -1 }, 256)).toThrowError(
      new InvalidArgumentError('textEmbeddingCacheSize must be an integer >= 0, got -1'),
    );
  });

  it('takes a deprecated name with one DeprecationWarning per name, and refuses it beside the new one', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const old = { oldCacheSizeForTest: 8 } as object;
    expect(textEmbeddingCacheSize(old, 4096, ['oldCacheSizeForTest'])).toBe(8);
    expect(textEmbeddingCacheSize(old, 4096, ['oldCacheSizeForTest'])).toBe(8);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      'the option oldCacheSizeForTest is deprecated: use textEmbeddingCacheSize (same meaning)',
      { type: 'DeprecationWarning', code: 'ORTVISION_TEXT_CACHE_SIZE' },
    );
    expect(() =>
      textEmbeddingCacheSize({ oldCacheSizeForTest: -2 } as object, 4096, ['oldCacheSizeForTest']),
    ).toThrowError(new InvalidArgumentError('oldCacheSizeForTest must be an integer >= 0, got -2'));
    expect(() =>
      textEmbeddingCacheSize({ oldCacheSizeForTest: 8, textEmbeddingCacheSize: 16 } as object, 4096, [
        'oldCacheSizeForTest',
      ]),
    ).toThrowError(
      new InvalidArgumentError(
        'oldCacheSizeForTest is the old name of textEmbeddingCacheSize: give only textEmbeddingCacheSize (got both, 8 and 16)',
      ),
    );
  });
});
