import { InvalidArgumentError } from '../errors.js';
import { describeValue } from './describe-value.js';

export interface NumberRange {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
}

function rangeText({ min, max }: NumberRange): string {
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

function inRange(value: number, { min, max }: NumberRange): boolean {
  return (min === undefined || value >= min) && (max === undefined || value <= max);
}

/**
 * `value` as an integer within `range`, else an `InvalidArgumentError` naming `name` and the value with its type
 * (`topK must be an integer >= 1, got '3'`).
 *
 * @example
 * const k = checkInteger(options.topK ?? 5, 'topK', { min: 1 });
 */
export function checkInteger(value: unknown, name: string, range: NumberRange = {}): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || !inRange(value, range)) {
    throw new InvalidArgumentError(
      `${name} must be an integer${rangeText(range)}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * `value` as a finite number within `range`, else an `InvalidArgumentError` naming `name` (NaN and the infinities
 * are refused: they make every comparison false and every result silently empty or NaN).
 *
 * @example
 * const scale = checkFiniteNumber(options.flowScaleFactor ?? 20, 'flowScaleFactor');
 */
export function checkFiniteNumber(value: unknown, name: string, range: NumberRange = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || !inRange(value, range)) {
    throw new InvalidArgumentError(
      `${name} must be a finite number${rangeText(range)}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/**
 * A score or IoU threshold: a finite number (`undefined` gives `fallback`). Every task and post-processing
 * function checks its thresholds with this one rule; `range` narrows it where a value outside cannot mean anything.
 *
 * @example
 * const threshold = checkThreshold(options.threshold, 'threshold', 0.1);
 */
export function checkThreshold(
  value: unknown,
  name: string,
  fallback: number,
  range: NumberRange = {},
): number {
  return value === undefined ? fallback : checkFiniteNumber(value, name, range);
}

/**
 * A true/false option: `undefined` gives `fallback`, anything but a boolean (`'yes'`, `1`) is an
 * `InvalidArgumentError` naming it.
 *
 * @example
 * const truncation = checkFlag(options.truncation, 'truncation', false);
 */
export function checkFlag(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${name} must be true or false, got ${describeValue(value)}`);
  }
  return value;
}
