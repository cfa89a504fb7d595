import { abortedError, checkAbortSignal } from '../abort.js';
import { InvalidArgumentError } from '../errors.js';
import { describeValue } from '../validation/describe-value.js';
import { checkFlag, checkInteger } from '../validation/numbers.js';
import { type OptionNames, checkOptions, optionNames } from '../validation/option-names.js';

/** How a run over many inputs goes: how many at once, progress, cancellation, what a failure does. */
export interface MapOptions {
  /**
   * How many calls run at once (default 2). In one thread, 2 is what helps: ONNX Runtime's `session.run` holds the
   * JavaScript thread, but the next input's file read, download and JPEG/PNG decode (sharp, on libuv's threads) go on
   * meanwhile. More than 2 only holds more decoded images in memory; for more parallel runs use `TaskWorkerPool`.
   */
  concurrency?: number;
  /**
   * Stops the run: no input starts after it fires, the calls in progress get it (each stops at its next step; a
   * `session.run` already started finishes first), and the iteration throws `AbortedError` once all of them have
   * settled: nothing is left running when it throws.
   */
  signal?: AbortSignal;
  /** Called each time an input finishes (succeeded or failed), with the counts so far. */
  onProgress?: (progress: MapProgress) => void;
  /**
   * Stop at the first failure, in input order, and throw its error (after the calls in progress have settled)
   * instead of reporting it as an item and going on. Default false: every input gets an item, failed or not.
   */
  stopOnError?: boolean;
  /** How many inputs there are, for `progress.total`, when `inputs` is an iterator (arrays and sets say it themselves). */
  total?: number;
}

/** The keys of `MapOptions`. */
export const MAP_OPTIONS: OptionNames<MapOptions> = optionNames<MapOptions>({
  concurrency: true,
  signal: true,
  onProgress: true,
  stopOnError: true,
  total: true,
});

/** Where a run over many inputs stands. */
export interface MapProgress {
  /** Inputs finished, succeeded or failed. */
  readonly done: number;
  /** Inputs that failed (included in `done`). */
  readonly failed: number;
  /** How many inputs there are, when known (an array, a set, or the `total` option). */
  readonly total: number | undefined;
  /** Since the run started, in ms. */
  readonly elapsedMs: number;
  /** Inputs finished per second since the run started (images/s for image tasks). */
  readonly perSecond: number;
}

/** One input's outcome, at its place in input order: its result, or the error it failed with. */
export type MapResult<I, R> =
  | { readonly index: number; readonly input: I; readonly ok: true; readonly result: R }
  | { readonly index: number; readonly input: I; readonly ok: false; readonly error: Error };

/**
 * The results of a run over many inputs, in input order, as they become ready (`for await`), or all at once
 * (`toArray()`). Leaving a `for await` early (`break`, an exception) stops the run and waits for the calls in
 * progress.
 */
export interface MapResults<I, R> extends AsyncIterableIterator<MapResult<I, R>> {
  /** Runs to the end and returns every item in input order. */
  toArray(): Promise<MapResult<I, R>[]>;
}

/** What one input costs: the call, with a signal that fires when the run stops. */
export type MapCall<I, R> = (input: I, signal: AbortSignal, index: number) => Promise<R>;

/** A bad `inputs` argument caught before anything runs: strings and bytes are iterable, but never what was meant. */
function checkInputs(inputs: unknown, where: string): void {
  const wrap = ': give a list (or an iterable) of inputs, e.g. [input]';
  if (typeof inputs === 'string' || inputs instanceof Uint8Array || inputs instanceof ArrayBuffer) {
    throw new InvalidArgumentError(
      `${where} got one input (${describeValue(inputs)}), not a list of them${wrap}`,
    );
  }
  const iterable =
    typeof inputs === 'object' &&
    inputs !== null &&
    (Symbol.iterator in inputs || Symbol.asyncIterator in inputs);
  if (!iterable) {
    throw new InvalidArgumentError(`${where} got ${describeValue(inputs)}${wrap}`);
  }
}

function knownTotal(inputs: Iterable<unknown> | AsyncIterable<unknown>): number | undefined {
  if (Array.isArray(inputs)) return inputs.length;
  const size = (inputs as { size?: unknown }).size;
  return inputs instanceof Set || inputs instanceof Map ? (size as number) : undefined;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Checked `MapOptions` (`where` names the call in messages). */
export function checkMapOptions(options: MapOptions | undefined, where: string): MapOptions {
  const o = checkOptions(options, MAP_OPTIONS, where);
  if (o.concurrency !== undefined) checkInteger(o.concurrency, `concurrency of ${where}`, { min: 1 });
  if (o.total !== undefined) checkInteger(o.total, `total of ${where}`, { min: 0 });
  checkFlag(o.stopOnError, `stopOnError of ${where}`, false);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw new InvalidArgumentError(
      `onProgress of ${where} must be a function, got ${describeValue(o.onProgress)}`,
    );
  }
  checkAbortSignal(o.signal, where);
  return o;
}

interface Started<I, R> {
  readonly settled: Promise<MapResult<I, R>>;
}

/**
 * Runs `call` on every input with at most `concurrency` calls at once and gives the results in input order, as a
 * stream or all at once. A failed input does not stop the others: its item carries the error (typed, as the call
 * threw it), unless `stopOnError`. Inputs are pulled from `inputs` (an array, any iterable, an async iterable) only
 * as calls start, so a generator over 100,000 file names is never read ahead by more than a few items; at most
 * 2 x `concurrency` finished results wait for an earlier, slower one.
 *
 * @example
 * const run = mapInOrder(paths, (path, signal) => classify(path, { topK: 3, signal }), {
 *   concurrency: 2,
 *   onProgress: ({ done, total, perSecond }) => console.error(`${done}/${total} (${perSecond.toFixed(1)} images/s)`),
 * });
 * for await (const item of run) {
 *   if (item.ok) console.log(item.input, item.result[0].label);
 *   else console.error(item.input, `${item.error.name}: ${item.error.message}`);
 * }
 */
export function mapInOrder<I, R>(
  inputs: Iterable<I> | AsyncIterable<I>,
  call: MapCall<I, R>,
  options: MapOptions = {},
  where = 'mapInOrder',
): MapResults<I, R> {
  checkInputs(inputs, where);
  if (typeof call !== 'function') {
    throw new InvalidArgumentError(`${where} needs a function to call, got ${describeValue(call)}`);
  }
  const checked = checkMapOptions(options, where);
  const concurrency = checked.concurrency ?? 2;
  const total = checked.total ?? knownTotal(inputs);
  const iterator = run(inputs, call, checked, concurrency, total, where);
  const results = iterator as MapResults<I, R>;
  results.toArray = async () => {
    const all: MapResult<I, R>[] = [];
    for await (const item of iterator) all.push(item);
    return all;
  };
  return results;
}

async function* run<I, R>(
  inputs: Iterable<I> | AsyncIterable<I>,
  call: MapCall<I, R>,
  { signal, onProgress, stopOnError = false }: MapOptions,
  concurrency: number,
  total: number | undefined,
  where: string,
): AsyncGenerator<MapResult<I, R>, void, undefined> {
  const source =
    Symbol.asyncIterator in inputs
      ? (inputs as AsyncIterable<I>)[Symbol.asyncIterator]()
      : (inputs as Iterable<I>)[Symbol.iterator]();
  // Fires when the caller's signal does, when the run stops early (stopOnError, a break), and at the end.
  const stop = new AbortController();
  const window: Started<I, R>[] = [];
  const started = performance.now();
  let nextIndex = 0;
  let running = 0;
  let done = 0;
  let failed = 0;
  let pulling = false;
  let exhausted = false;
  // Set by a failure under stopOnError: no input starts after it, but the calls in progress finish normally (one of
  // them may be an earlier input whose own failure is the one to report).
  let halted = false;
  let fatal: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onAbort = () => {
    stop.abort(signal?.reason);
    notify();
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  const finish = (index: number, input: I, outcome: MapResult<I, R>): MapResult<I, R> => {
    running--;
    done++;
    if (!outcome.ok) failed++;
    if (!outcome.ok && stopOnError) halted = true;
    if (onProgress && !fatal) {
      const elapsedMs = performance.now() - started;
      try {
        onProgress({
          done,
          failed,
          total,
          elapsedMs,
          perSecond: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0,
        });
      } catch (error) {
        // The caller's callback failed: that ends the run, as an exception in a for-await body would.
        fatal = { error };
        stop.abort();
      }
    }
    pump();
    notify();
    return outcome;
  };

  const start = (input: I) => {
    const index = nextIndex++;
    running++;
    let settled: Promise<MapResult<I, R>>;
    try {
      settled = call(input, stop.signal, index).then(
        (result) => finish(index, input, { index, input, ok: true, result }),
        (error: unknown) => finish(index, input, { index, input, ok: false, error: asError(error) }),
      );
    } catch (error) {
      // A call that throws before returning its promise is a failure of that input like any other.
      settled = Promise.resolve().then(() =>
        finish(index, input, { index, input, ok: false, error: asError(error) }),
      );
    }
    window.push({ settled });
  };

  // Starts calls while there is room: at most `concurrency` running and 2 x `concurrency` not yet handed out.
  function pump(): void {
    if (pulling || exhausted || halted || stop.signal.aborted) return;
    if (running >= concurrency || window.length >= 2 * concurrency) return;
    pulling = true;
    Promise.resolve()
      .then(() => source.next())
      .then(
        (step) => {
          pulling = false;
          if (step.done) exhausted = true;
          // An input pulled as the run stopped is dropped; the source is closed at the end.
          else if (!halted && !stop.signal.aborted) start(step.value);
          pump();
          notify();
        },
        (error: unknown) => {
          pulling = false;
          exhausted = true;
          fatal ??= { error };
          stop.abort();
          notify();
        },
      );
  }

  try {
    pump();
    while (true) {
      if (signal?.aborted) break;
      const head = window[0];
      if (!head) {
        if (exhausted || halted || stop.signal.aborted) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      const item = await head.settled;
      window.shift();
      pump();
      if (signal?.aborted || fatal) break;
      if (!item.ok && stopOnError) throw item.error;
      yield item;
    }
    if (fatal) throw fatal.error;
    if (signal?.aborted) throw abortedError(signal, where);
  } finally {
    stop.abort();
    signal?.removeEventListener('abort', onAbort);
    // Nothing is left running once the iteration ends, however it ends.
    await Promise.allSettled(window.map((item) => item.settled));
    if (!exhausted && !pulling) {
      try {
        await source.return?.();
      } catch {
        // The source's own clean-up failing does not change how the run ended.
      }
    }
  }
}
