import { InvalidArgumentError } from '../../errors.js';
import { describeValue } from '../../validation/describe-value.js';
import { checkInteger } from '../../validation/numbers.js';

/**
 * A least-recently-used map with a fixed capacity: `get` marks an entry as used, `set` adds or refreshes one and
 * drops the least recently used beyond `capacity`. Capacity 0 keeps nothing. What the CLIP family's task helpers
 * keep their text embeddings in, so a label set asked again skips the text tower.
 *
 * @example
 * ```ts
 * import { LruCache } from '@ortvision/core';
 * const cache = new LruCache<string, Float32Array>(2);
 * cache.set('a', a); cache.set('b', b);
 * cache.get('a'); // a, now the most recently used
 * cache.set('c', c); // drops 'b'
 * ```
 */
export class LruCache<K, V> {
  // A Map iterates in insertion order: re-inserting moves an entry to the end, so the first key is the oldest.
  readonly #entries = new Map<K, V>();

  /** @param capacity how many entries to keep, an integer >= 0. */
  constructor(readonly capacity: number) {
    checkInteger(capacity, 'capacity', { min: 0 });
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key` (marking it as the most recently used), or undefined. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Adds or refreshes `key` as the most recently used; evicts the least recently used beyond `capacity`. */
  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.keys().next().value as K);
  }

  /** The keys from least to most recently used. */
  keys(): K[] {
    return [...this.#entries.keys()];
  }

  clear(): void {
    this.#entries.clear();
  }
}

/** The option every CLIP-family task helper sizes its text-embedding cache with. */
export interface TextEmbeddingCacheOptions {
  /**
   * How many texts' embeddings to keep for reuse across calls (least recently used dropped first; 0 keeps none).
   * Embeddings do not depend on the image, so a text asked again skips the text tower.
   */
  textEmbeddingCacheSize?: number;
}

const warned = new Set<string>();

/**
 * `textEmbeddingCacheSize` checked (an integer >= 0), or `fallback` when not given. `deprecated` names old option
 * names that still work (AltCLIP's `textCacheSize`): such a name gives a `DeprecationWarning` once per process and
 * name, and giving it beside `textEmbeddingCacheSize` is an `InvalidArgumentError`.
 *
 * @example
 * ```ts
 * const size = textEmbeddingCacheSize(options, 4096, ['textCacheSize']); // 4096 when neither is given
 * ```
 */
export function textEmbeddingCacheSize(
  options: TextEmbeddingCacheOptions,
  fallback: number,
  deprecated: readonly string[] = [],
): number {
  const given = options as Readonly<Record<string, unknown>>;
  let name = 'textEmbeddingCacheSize';
  let value: unknown = options.textEmbeddingCacheSize;
  for (const old of deprecated) {
    if (given[old] === undefined) continue;
    if (value !== undefined) {
      throw new InvalidArgumentError(
        `${old} is the old name of ${name}: give only ${name} (got both, ${describeValue(given[old])} and ${describeValue(value)})`,
      );
    }
    if (!warned.has(old)) {
      warned.add(old);
      process.emitWarning(`the option ${old} is deprecated: use ${name} (same meaning)`, {
        type: 'DeprecationWarning',
        code: 'ORTVISION_TEXT_CACHE_SIZE',
      });
    }
    name = old;
    value = given[old];
  }
  return value === undefined ? fallback : checkInteger(value, name, { min: 0 });
}
