import { AsyncLocalStorage } from 'node:async_hooks';
import { AbortedError, InvalidArgumentError } from './errors.js';
import { describeValue } from './validation/describe-value.js';

/**
 * The signal of the task call in progress. Task helpers run each call inside `withAbortSignal`, and every
 * `ModelSession.run` of that call checks this signal before and after it runs, without each model method having to
 * pass it on (the session runs of a model are several levels below the task: towers, tiles, heads).
 */
const callSignal = new AsyncLocalStorage<AbortSignal | undefined>();

/**
 * Runs `run` with `signal` as the signal that session runs started inside it check (see `currentAbortSignal`).
 *
 * @example
 * await withAbortSignal(AbortSignal.timeout(5000), () => model.forward(inputs)); // AbortedError after 5 s
 */
export function withAbortSignal<T>(signal: AbortSignal | undefined, run: () => T): T {
  return callSignal.run(signal, run);
}

/** The signal of the enclosing `withAbortSignal`, if any. */
export function currentAbortSignal(): AbortSignal | undefined {
  return callSignal.getStore();
}

/** `signal` checked to be an `AbortSignal` (or undefined): a typed error instead of a crash on first use. */
export function checkAbortSignal(signal: unknown, where: string): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  throw new InvalidArgumentError(
    `signal of ${where} must be an AbortSignal (from an AbortController or AbortSignal.timeout()), got ${describeValue(signal)}`,
  );
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.name === 'AbortError' ? '' : `: ${reason.message}`;
  return reason === undefined ? '' : `: ${String(reason)}`;
}

/**
 * The `AbortedError` for a fired signal: it names the operation, says whether a time limit ran out
 * (`AbortSignal.timeout`) and keeps the signal's reason as `cause`.
 */
export function abortedError(signal: AbortSignal, operation: string): AbortedError {
  const { reason } = signal;
  const timedOut = reason instanceof Error && reason.name === 'TimeoutError';
  return new AbortedError(
    timedOut
      ? `${operation} timed out${reasonText(reason)}`
      : `${operation} was aborted${reasonText(reason)}`,
    { cause: reason, timedOut },
  );
}

/**
 * Throws `AbortedError` when `signal` has fired. Called between the steps of a long operation (load, preprocess,
 * each session run, post-process); ONNX Runtime cannot stop a run once started, so a check comes after it too.
 *
 * @example
 * throwIfAborted(signal, 'imageClassification: preprocessing');
 */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw abortedError(signal, operation);
}

/**
 * An error caught while `signal` may have fired: the signal's own rejection (a DOMException from fetch or timers,
 * or anything else thrown because of the abort) becomes `AbortedError`; other errors pass through unchanged.
 */
export function asAbortedError(error: unknown, signal: AbortSignal | undefined, operation: string): unknown {
  if (error instanceof AbortedError || !signal?.aborted) return error;
  return abortedError(signal, operation);
}

/**
 * Runs one abortable step: `AbortedError` when `signal` already fired, and the step's own failure turned into
 * `AbortedError` when it failed because the signal fired (a fetch, a retry wait). `signal` is checked to be an
 * `AbortSignal` first.
 *
 * @example
 * const config = await abortable(options.signal, 'loading config.json', () => ViTConfig.fromPretrained(id, options));
 */
export async function abortable<T>(signal: unknown, operation: string, step: () => Promise<T>): Promise<T> {
  const checked = checkAbortSignal(signal, operation);
  throwIfAborted(checked, operation);
  try {
    return await step();
  } catch (error) {
    throw asAbortedError(error, checked, operation);
  }
}
