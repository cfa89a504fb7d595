import type { Value } from '../graph.js';
import type { Module } from '../module.js';
import { storedWeight } from './precision.js';

export interface EmbeddingOptions {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
}

/**
 * torch's `nn.Embedding` at module `m` (`m.weight` [num, dim]): rows of the table picked by integer `ids` (ONNX
 * Gather on axis 0). With 'fp16' the table is stored as float16 and widened once when the session starts.
 *
 * @example
 * ```ts
 * const tokens = embedding(embeddings.child('word_embeddings'), inputIds, { numEmbeddings: 49408, embeddingDim: 512 });
 * ```
 */
export function embedding(m: Module, ids: Value, options: EmbeddingOptions): Value {
  const table = storedWeight(m, 'weight', [options.numEmbeddings, options.embeddingDim]);
  return m.op('Gather', [table, ids], { axis: 0 });
}
