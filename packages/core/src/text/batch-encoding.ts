import { InputShapeError, InvalidArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import type { Side } from './tokenizer-config.js';

/**
 * transformers' `padding`: `true` / `'longest'` pads to the longest sequence of the batch, `'max_length'` to
 * `maxLength` (default: the tokenizer's `model_max_length`), `false` / `'do_not_pad'` does not pad.
 */
export type Padding = boolean | 'longest' | 'max_length' | 'do_not_pad';

/**
 * transformers' `truncation` for single sequences: `true` / `'longest_first'` cuts each sequence to `maxLength`
 * (default: `model_max_length`) tokens, special tokens included; `false` / `'do_not_truncate'` keeps all.
 */
export type Truncation = boolean | 'longest_first' | 'do_not_truncate';

export interface PaddingTruncationOptions {
  /** Default `false`. */
  padding?: Padding;
  /** Default `false`, except that `maxLength` alone (with no padding) turns it on, as in transformers. */
  truncation?: Truncation;
  /** The length to truncate and/or pad to (`'max_length'` padding), special tokens included. */
  maxLength?: number;
}

/** A tokenized batch, named as transformers names it: int64 tensors shaped [batch, seq]. */
export interface BatchEncoding {
  input_ids: Tensor<'int64'>;
  attention_mask: Tensor<'int64'>;
}

/** The options resolved the way transformers' `_get_padding_truncation_strategies` resolves them. */
export interface Strategy {
  padding: 'do_not_pad' | 'longest' | 'max_length';
  /** Pad every sequence to this length (with `'max_length'` padding). */
  padTo: number | undefined;
  /** Cut every sequence to at most this length, special tokens included; undefined: no truncation. */
  truncateTo: number | undefined;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function parsePadding(padding: unknown): Strategy['padding'] {
  if (padding === undefined || padding === false || padding === 'do_not_pad') return 'do_not_pad';
  if (padding === true || padding === 'longest') return 'longest';
  if (padding === 'max_length') return 'max_length';
  throw new InvalidArgumentError(
    `padding must be true, false, 'longest', 'max_length' or 'do_not_pad', got ${describe(padding)}`,
  );
}

function parseTruncation(truncation: unknown, maxLength: number | undefined, padding: unknown): boolean {
  // transformers: "max_length alone activates truncation" (only when padding is left at False)
  if (truncation === undefined)
    return maxLength !== undefined && (padding === undefined || padding === false);
  if (truncation === true || truncation === 'longest_first') return true;
  if (truncation === false || truncation === 'do_not_truncate') return false;
  throw new InvalidArgumentError(
    `truncation must be true, false, 'longest_first' or 'do_not_truncate', got ${describe(truncation)}`,
  );
}

/** Resolves padding/truncation/maxLength against the tokenizer's `model_max_length` (Infinity: none). */
export function resolveStrategy(options: PaddingTruncationOptions, modelMaxLength: number): Strategy {
  const { maxLength } = options;
  if (maxLength !== undefined && !(Number.isInteger(maxLength) && maxLength >= 1)) {
    throw new InvalidArgumentError(`maxLength must be a positive integer, got ${describe(maxLength)}`);
  }
  const padding = parsePadding(options.padding);
  const truncate = parseTruncation(options.truncation, maxLength, options.padding);
  const limit = maxLength ?? modelMaxLength;
  if (padding === 'max_length' && !Number.isFinite(limit)) {
    throw new InvalidArgumentError(
      "padding 'max_length' needs maxLength: this tokenizer's tokenizer_config.json sets no model_max_length",
    );
  }
  return {
    padding,
    padTo: padding === 'max_length' ? limit : undefined,
    // like transformers, truncation without any known limit is a no-op (it only warns)
    truncateTo: truncate && Number.isFinite(limit) ? limit : undefined,
  };
}

/**
 * Throws when the length to truncate or pad to cannot hold the special tokens every sequence gets (CLIP's
 * `<|startoftext|>` ... `<|endoftext|>`: 2).
 */
export function checkRoomForSpecialTokens(strategy: Strategy, numSpecialTokens: number): void {
  const length = Math.min(
    strategy.truncateTo ?? Number.POSITIVE_INFINITY,
    strategy.padTo ?? Number.POSITIVE_INFINITY,
  );
  if (length < numSpecialTokens) {
    throw new InvalidArgumentError(
      `maxLength ${length} is too small: each sequence needs ${numSpecialTokens} special tokens, so maxLength must be >= ${numSpecialTokens}`,
    );
  }
}

/** Keeps `room` ids, dropping the rest from the truncation side. */
export function truncateIds(ids: number[], room: number, side: Side): number[] {
  if (ids.length <= room) return ids;
  return side === 'right' ? ids.slice(0, room) : ids.slice(ids.length - room);
}

/**
 * Pads id sequences into [batch, seq] int64 tensors (pad id and attention 0 on the padding side). Rows that
 * cannot share one length (no padding, or longer than `'max_length'` without truncation) are an InputShapeError,
 * as transformers fails to build tensors from them.
 */
export function padIds(
  rows: readonly number[][],
  strategy: Strategy,
  padId: number | undefined,
  side: Side,
): BatchEncoding {
  let longest = 0;
  for (const row of rows) longest = Math.max(longest, row.length);
  const seq = strategy.padding === 'max_length' ? strategy.padTo! : longest;
  rows.forEach((row, index) => {
    if (row.length > seq) {
      throw new InputShapeError(
        `text[${index}] has ${row.length} tokens, more than maxLength ${seq}, and truncation is off: pass truncation: true`,
      );
    }
    if (row.length < seq && strategy.padding === 'do_not_pad') {
      throw new InputShapeError(
        `the texts have different lengths in tokens (${rows.map((r) => r.length).join(', ')}) and padding is off: pass padding: true to get one [batch, seq] tensor`,
      );
    }
  });
  const ids = new BigInt64Array(rows.length * seq);
  const mask = new BigInt64Array(rows.length * seq);
  rows.forEach((row, index) => {
    const padding = seq - row.length;
    if (padding > 0) {
      if (padId === undefined) throw new InvalidArgumentError('cannot pad: the tokenizer has no pad_token');
      const start = index * seq + (side === 'right' ? row.length : 0);
      ids.fill(BigInt(padId), start, start + padding);
    }
    const offset = index * seq + (side === 'left' ? padding : 0);
    for (let j = 0; j < row.length; j++) {
      ids[offset + j] = BigInt(row[j]!);
      mask[offset + j] = 1n;
    }
  });
  return {
    input_ids: new Tensor('int64', ids, [rows.length, seq]),
    attention_mask: new Tensor('int64', mask, [rows.length, seq]),
  };
}
