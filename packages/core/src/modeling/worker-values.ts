import * as errors from '../errors.js';
import { Image } from '../image/image.js';
import { Tensor } from '../tensor/tensor.js';

// Values crossing between a worker thread and its pool. Structured clone copies typed arrays and plain objects but
// drops prototypes: a Tensor would arrive as a bare { dtype, dims, data }, an Image without its methods, an
// InvalidImageError as a plain Error, and a URL not at all. These are tagged on one side and rebuilt on the other.

const TAG = '__ortvisionWorkerValue';

type Tagged =
  | { [TAG]: 'Tensor'; dtype: Tensor['dtype']; dims: readonly number[]; data: Tensor['data'] }
  | { [TAG]: 'Image'; data: Uint8Array; width: number; height: number; channels: Image['channels'] }
  | { [TAG]: 'URL'; href: string }
  | { [TAG]: 'Error'; error: SerializedError };

/** An error as it crosses threads: its class name, message and stack, and `AbortedError`'s `timedOut`. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  timedOut?: boolean;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** An error as a plain object (any thrown value becomes one). */
export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const serialized: SerializedError = { name: error.name, message: error.message };
  if (error.stack !== undefined) serialized.stack = error.stack;
  if (error instanceof errors.AbortedError) serialized.timedOut = error.timedOut;
  return serialized;
}

type ErrorClass = new (message: string, options?: ErrorOptions & { timedOut?: boolean }) => Error;

const errorClasses = new Map<string, ErrorClass>(
  (Object.values(errors) as unknown[])
    .filter((value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof Error)
    .map((cls) => [cls.name, cls]),
);

/**
 * The error again, as its own class when it is one of ortvision's (`instanceof InvalidImageError` holds on this
 * side too); any other error keeps its name and message. The stack is the worker's, where it was thrown.
 */
export function reviveError(serialized: SerializedError): Error {
  const cls = errorClasses.get(serialized.name);
  const error = cls
    ? new cls(serialized.message, serialized.timedOut !== undefined ? { timedOut: serialized.timedOut } : {})
    : Object.assign(new Error(serialized.message), { name: serialized.name });
  if (serialized.stack !== undefined) error.stack = serialized.stack;
  return error;
}

/** `value` ready for `postMessage`: Tensors, Images, URLs and errors tagged, everywhere in arrays and plain objects. */
export function encodeWorkerValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Tensor) {
    return { [TAG]: 'Tensor', dtype: value.dtype, dims: [...value.dims], data: value.data };
  }
  if (value instanceof Image) {
    const { data, width, height, channels } = value;
    return { [TAG]: 'Image', data, width, height, channels };
  }
  if (value instanceof URL) return { [TAG]: 'URL', href: value.href };
  if (value instanceof Error) return { [TAG]: 'Error', error: serializeError(value) };
  if (Array.isArray(value)) return value.map(encodeWorkerValue);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, encodeWorkerValue(item)]));
}

/** The value `encodeWorkerValue` tagged, with its Tensors, Images, URLs and errors rebuilt. */
export function decodeWorkerValue(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(decodeWorkerValue);
  if (!isPlainObject(value)) return value;
  const tagged = value as Tagged;
  switch (tagged[TAG]) {
    case 'Tensor':
      return new Tensor(tagged.dtype, tagged.data, tagged.dims);
    case 'Image':
      return new Image(tagged.data, tagged.width, tagged.height, tagged.channels);
    case 'URL':
      return new URL(tagged.href);
    case 'Error':
      return reviveError(tagged.error);
    default:
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decodeWorkerValue(item)]));
  }
}
