import { createRequire } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { abortedError, checkAbortSignal, throwIfAborted } from '../abort.js';
import { DisposedError, InvalidArgumentError, MissingDependencyError, ModelRunError } from '../errors.js';
import { physicalCoreCount } from '../runtime/session-options.js';
import { describeValue } from '../validation/describe-value.js';
import { checkInteger } from '../validation/numbers.js';
import { checkOptions, optionNames } from '../validation/option-names.js';
import {
  MAP_OPTIONS,
  type MapOptions,
  type MapResults,
  checkMapOptions,
  mapInOrder,
} from './map-in-order.js';
import type { FromWorker, TaskWorkerData, ToWorker } from './task-worker.js';
import type { BatchedTaskFunction, TaskCallOptions } from './task.js';
import { decodeWorkerValue, encodeWorkerValue, reviveError, serializeError } from './worker-values.js';

/** Which task a pool's workers load: the same three things a task helper call names, plus its module. */
export interface TaskWorkerSpec {
  /**
   * The module that exports the task helper: a package name (`'@ortvision/vit'`, found from this process's
   * working directory) or a file URL / absolute path (`import.meta.resolve('@ortvision/vit')` always works).
   */
  module: string;
  /** The task helper's export name (`'imageClassification'`). */
  task: string;
  /** The Hub id or folder each worker loads. */
  model: string;
  /**
   * The task helper's loading options (`device`, `dtype`, `revision`, `cacheDir`, `localFilesOnly`,
   * `sessionOptions`, the task's own): values structured clone can copy, so no `signal` or `onProgress` (give the
   * pool's `signal` instead). `sessionOptions.intraOpNumThreads` overrides `threadsPerWorker`.
   */
  options?: Record<string, unknown>;
}

export interface TaskWorkerPoolOptions {
  /** Worker threads, each with its own model and session (default 1; see the core README for measurements). */
  workers?: number;
  /**
   * ONNX Runtime intra-op threads of each worker's session (default: physical cores / `workers`, at least 1), so
   * that the workers together use each core once.
   */
  threadsPerWorker?: number;
  /**
   * Calls one worker takes at once (default 2): the next input is read, decoded and preprocessed in the worker while
   * its current one runs; more only holds more images in memory.
   */
  callsPerWorker?: number;
  /** Stops the loading: `AbortedError`, and the workers already started are stopped. */
  signal?: AbortSignal;
}

const POOL_OPTIONS = optionNames<TaskWorkerPoolOptions>({
  workers: true,
  threadsPerWorker: true,
  callsPerWorker: true,
  signal: true,
});

/** The measured default (core README, "Many inputs"): see `TaskWorkerPoolOptions.workers`. */
export const DEFAULT_POOL_WORKERS = 1;

// biome-ignore lint/suspicious/noExplicitAny: any task function's parameters; the pool's own API is typed by F
type AnyTaskFunction = (...args: any[]) => Promise<unknown>;

/** The `map` of a pool whose task takes one input or a list of them, typed as the task's own `map`. */
export type TaskWorkerMap<F> = F extends BatchedTaskFunction<infer I, infer A, infer O, infer R>
  ? (
      inputs: Iterable<I> | AsyncIterable<I>,
      ...rest: [...A, options?: O & TaskCallOptions & MapOptions]
    ) => MapResults<I, R>
  : never;

interface Call {
  readonly args: unknown[];
  readonly signal: AbortSignal | undefined;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  readonly calls: Map<number, Call>;
  /** Why the worker stopped, once it has. */
  stopped?: Error;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * The module's URL: file URLs and absolute paths as they are; a package name resolved from core's own folder (where
 * npm installs its neighbours) or else from the working directory (pnpm keeps packages apart).
 */
export function resolveTaskModule(specifier: string): string {
  if (/^file:/i.test(specifier)) return specifier;
  if (isAbsolute(specifier)) return pathToFileURL(specifier).href;
  for (const from of [import.meta.url, pathToFileURL(join(process.cwd(), 'index.js')).href]) {
    try {
      return pathToFileURL(createRequire(from).resolve(specifier)).href;
    } catch {
      // try the next place
    }
  }
  throw new MissingDependencyError(
    `cannot find the task module '${specifier}' from ${process.cwd()}: install it, or give its URL (module: import.meta.resolve('${specifier}'))`,
  );
}

/** Source mode (this repository's tests and tools run core from TypeScript): workers register tsx first. */
const SOURCE_MODE = import.meta.url.endsWith('.ts');

function startWorker(data: TaskWorkerData): Worker {
  const entry = new URL(`./task-worker.${SOURCE_MODE ? 'ts' : 'js'}`, import.meta.url).href;
  if (!SOURCE_MODE) return new Worker(new URL(entry), { workerData: data });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data, execArgv: ['--conditions=@ortvision/source'] });
}

function checkSpec(spec: TaskWorkerSpec): Record<string, unknown> {
  const given = checkOptions(spec, ['module', 'task', 'model', 'options'], 'the TaskWorkerPool spec');
  for (const key of ['module', 'task', 'model'] as const) {
    if (typeof given[key] !== 'string' || given[key] === '') {
      throw new InvalidArgumentError(
        `the TaskWorkerPool spec needs ${key} as a non-empty string, got ${describeValue(given[key])}`,
      );
    }
  }
  const options = given.options ?? {};
  if (!isPlainObject(options)) {
    throw new InvalidArgumentError(
      `the TaskWorkerPool spec's options must be an object, got ${describeValue(options)}`,
    );
  }
  for (const key of ['signal', 'onProgress']) {
    if (options[key] !== undefined) {
      throw new InvalidArgumentError(
        `the TaskWorkerPool spec's options cannot carry ${key} (it cannot be sent to a worker thread); give the pool's own signal option instead`,
      );
    }
  }
  return options;
}

/**
 * A task run by N worker threads, each with its own copy of the model: ONNX Runtime's `session.run` holds the
 * JavaScript thread it is called from, so two sessions in one thread take turns, while two worker threads run at once
 * and each decodes and preprocesses its next image while the other's session runs. The intra-op threads are split
 * between the workers (`threadsPerWorker`), so N workers use the cores once, not N times.
 *
 * `run` is the task function (same arguments, same results: Tensors, Images and ortvision's typed errors are rebuilt
 * on this side; `signal` works); `map` runs it over many inputs in input order, like a task's own `map`. Memory: each
 * worker holds its own model. Each call's inputs and results are copied between threads.
 *
 * @example
 * ```ts
 * import type { ImageClassificationFunction } from '@ortvision/core';
 * const pool = await TaskWorkerPool.create<ImageClassificationFunction>(
 *   { module: import.meta.resolve('@ortvision/vit'), task: 'imageClassification', model: 'google/vit-base-patch16-224' },
 *   { workers: 2 },
 * );
 * console.log(await pool.run('cat.jpg', { topK: 3 }));
 * for await (const item of pool.map(paths, { topK: 1 })) console.log(item.input, item.ok ? item.result : item.error.message);
 * await pool.dispose();
 * ```
 */
export class TaskWorkerPool<F extends AnyTaskFunction = AnyTaskFunction> {
  /** Worker threads in the pool. */
  readonly workers: number;
  /** ONNX Runtime intra-op threads of each worker's session. */
  readonly threadsPerWorker: number;
  /** Calls one worker takes at once. */
  readonly callsPerWorker: number;
  /** The task's name, as messages show it. */
  readonly task: string;
  /**
   * Runs the task once, on whichever worker has room (calls queue while every worker is busy): the task function's
   * own arguments and result.
   */
  readonly run: F;
  /** The task over many inputs (tasks that take one input or a list of them only); see `mapInOrder`. */
  readonly map: TaskWorkerMap<F>;
  readonly #slots: Slot[];
  readonly #optionsIndex: number | undefined;
  readonly #batched: boolean;
  readonly #queue: Call[] = [];
  #nextId = 0;
  #disposed = false;

  private constructor(
    task: string,
    slots: Slot[],
    shape: { optionsIndex: number | undefined; batched: boolean },
    sizes: { threadsPerWorker: number; callsPerWorker: number },
  ) {
    this.task = task;
    this.#slots = slots;
    this.workers = slots.length;
    this.threadsPerWorker = sizes.threadsPerWorker;
    this.callsPerWorker = sizes.callsPerWorker;
    this.#optionsIndex = shape.optionsIndex;
    this.#batched = shape.batched;
    for (const slot of slots) this.#watch(slot);
    this.run = ((...args: unknown[]) => this.#run(args)) as F;
    this.map = ((inputs: Iterable<unknown> | AsyncIterable<unknown>, ...rest: unknown[]) =>
      this.#map(inputs, rest)) as TaskWorkerMap<F>;
  }

  /**
   * Starts the worker threads and loads the task in each (in parallel); resolves when all are ready. A load that
   * fails in any worker stops them all and throws that worker's error (typed, as the task helper threw it).
   */
  static async create<F extends AnyTaskFunction = AnyTaskFunction>(
    spec: TaskWorkerSpec,
    options: TaskWorkerPoolOptions = {},
  ): Promise<TaskWorkerPool<F>> {
    const loadOptions = checkSpec(spec);
    const given = checkOptions(options, POOL_OPTIONS, 'TaskWorkerPool.create');
    const workers = checkInteger(given.workers ?? DEFAULT_POOL_WORKERS, 'workers', { min: 1 });
    const threadsPerWorker = checkInteger(
      given.threadsPerWorker ?? Math.max(1, Math.floor(physicalCoreCount() / workers)),
      'threadsPerWorker',
      { min: 1 },
    );
    const callsPerWorker = checkInteger(given.callsPerWorker ?? 2, 'callsPerWorker', { min: 1 });
    const signal = checkAbortSignal(given.signal, 'TaskWorkerPool.create');
    const where = `TaskWorkerPool.create(${spec.task})`;
    throwIfAborted(signal, where);
    const sessionOptions = isPlainObject(loadOptions.sessionOptions) ? loadOptions.sessionOptions : {};
    const data: TaskWorkerData = {
      module: resolveTaskModule(spec.module),
      task: spec.task,
      model: spec.model,
      options: encodeWorkerValue({
        ...loadOptions,
        sessionOptions: { intraOpNumThreads: threadsPerWorker, ...sessionOptions },
      }),
    };
    const started: Worker[] = [];
    try {
      for (let i = 0; i < workers; i++) started.push(startWorker(data));
    } catch (error) {
      await Promise.all(started.map((worker) => worker.terminate()));
      throw new InvalidArgumentError(
        `the TaskWorkerPool spec's options cannot be sent to a worker thread: ${(error as Error).message}`,
        { cause: error },
      );
    }
    let onAbort: (() => void) | undefined;
    try {
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(abortedError(signal!, where));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      const shapes = await Promise.race([Promise.all(started.map(whenReady)), aborted]);
      const slots = started.map((worker) => ({ worker, calls: new Map<number, Call>() }));
      for (const worker of started) worker.unref();
      return new TaskWorkerPool<F>(spec.task, slots, shapes[0]!, { threadsPerWorker, callsPerWorker });
    } catch (error) {
      await Promise.all(started.map((worker) => worker.terminate()));
      throw error;
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Calls waiting for a worker, and calls running in the workers. */
  get pending(): { queued: number; running: number } {
    return {
      queued: this.#queue.length,
      running: this.#slots.reduce((sum, slot) => sum + slot.calls.size, 0),
    };
  }

  /**
   * Waits for the calls already running in the workers, refuses the queued ones (`DisposedError`), then releases
   * each worker's model and stops the threads. Calls after it throw `DisposedError`.
   */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const call of this.#queue.splice(0)) {
      call.reject(new DisposedError(`the ${this.task} worker pool was disposed before this call started`));
    }
    await Promise.all(this.#slots.map((slot) => this.#stop(slot)));
  }

  async #stop(slot: Slot): Promise<void> {
    const { worker } = slot;
    if (slot.stopped) return;
    const running = [...slot.calls.values()].map(
      (call) =>
        new Promise<void>((resolve) => {
          const { resolve: done, reject } = call;
          call.resolve = (value) => {
            done(value);
            resolve();
          };
          call.reject = (error) => {
            reject(error);
            resolve();
          };
        }),
    );
    await Promise.all(running);
    if (slot.stopped) return;
    worker.ref();
    const disposed = new Promise<void>((resolve) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'disposed') resolve();
      });
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ type: 'dispose' } satisfies ToWorker);
    await disposed;
    await worker.terminate();
  }

  #watch(slot: Slot): void {
    const { worker } = slot;
    worker.on('message', (message: FromWorker) => {
      if (message.type !== 'result' && message.type !== 'error') return;
      const call = slot.calls.get(message.id);
      if (!call) return;
      slot.calls.delete(message.id);
      if (slot.calls.size === 0) worker.unref();
      if (message.type === 'result') call.resolve(decodeWorkerValue(message.value));
      else call.reject(reviveError(message.error));
      this.#dispatch();
    });
    const stopped = (why: Error) => {
      if (slot.stopped) return;
      slot.stopped = why;
      for (const call of slot.calls.values()) call.reject(why);
      slot.calls.clear();
      this.#dispatch();
    };
    worker.on('error', (error) => {
      stopped(
        new ModelRunError(`a worker thread of the ${this.task} pool failed: ${error.message}`, {
          cause: error,
        }),
      );
    });
    worker.on('exit', (code) => {
      stopped(
        this.#disposed
          ? new DisposedError(`the ${this.task} worker pool was disposed`)
          : new ModelRunError(`a worker thread of the ${this.task} pool exited (code ${code})`),
      );
    });
  }

  #run(args: unknown[]): Promise<unknown> {
    const index = this.#optionsIndex ?? args.length - 1;
    const options = args[index];
    if (index >= 0 && isPlainObject(options) && 'signal' in options) {
      const { signal, ...rest } = options;
      const sent = [...args];
      sent[index] = rest;
      return this.#call(sent, checkAbortSignal(signal, `the ${this.task} call`));
    }
    return this.#call(args, undefined);
  }

  #map(inputs: Iterable<unknown> | AsyncIterable<unknown>, rest: unknown[]): MapResults<unknown, unknown> {
    const where = `${this.task}.map`;
    if (!this.#batched || this.#optionsIndex === undefined) {
      throw new InvalidArgumentError(
        `${where}: ${this.task} does not take one input or a list of them; call pool.run once per input instead`,
      );
    }
    const arity = this.#optionsIndex - 1;
    if (rest.length > arity + 1) {
      throw new InvalidArgumentError(
        `${where} takes ${arity} argument${arity === 1 ? '' : 's'} after the inputs and an optional options object, got ${rest.length}`,
      );
    }
    const given = rest[arity];
    if (given !== undefined && !isPlainObject(given)) {
      throw new InvalidArgumentError(
        `the options of ${where} must be an object (or left out), got ${describeValue(given)}`,
      );
    }
    const mapOptions: Record<string, unknown> = {};
    const taskOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(given ?? {})) {
      if ((MAP_OPTIONS as readonly string[]).includes(key)) mapOptions[key] = value;
      else taskOptions[key] = value;
    }
    const checked = checkMapOptions(mapOptions, where);
    const positional = rest.slice(0, arity);
    return mapInOrder(
      inputs,
      (input, signal) => this.#call([input, ...positional, taskOptions], signal),
      { concurrency: this.workers * this.callsPerWorker, ...checked },
      where,
    );
  }

  #call(args: unknown[], signal: AbortSignal | undefined): Promise<unknown> {
    if (this.#disposed) {
      return Promise.reject(new DisposedError(`the ${this.task} worker pool was disposed`));
    }
    if (signal?.aborted) return Promise.reject(abortedError(signal, this.task));
    return new Promise((resolve, reject) => {
      const call: Call = { args, signal, resolve, reject };
      if (signal) {
        const onAbort = () => {
          const queued = this.#queue.indexOf(call);
          if (queued >= 0) {
            // Not started: nothing runs, it fails at once.
            this.#queue.splice(queued, 1);
            reject(abortedError(signal, this.task));
            return;
          }
          // Running: the worker stops it at its next step and answers with the AbortedError.
          for (const slot of this.#slots) {
            for (const [id, running] of slot.calls) {
              if (running === call) {
                const reason = serializeError(signal.reason ?? new Error('aborted'));
                slot.worker.postMessage({ type: 'abort', id, reason } satisfies ToWorker);
              }
            }
          }
        };
        signal.addEventListener('abort', onAbort, { once: true });
        call.resolve = (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        };
        call.reject = (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        };
      }
      this.#queue.push(call);
      this.#dispatch();
    });
  }

  /** Hands queued calls to the least busy workers with room. */
  #dispatch(): void {
    while (this.#queue.length > 0) {
      const live = this.#slots.filter((slot) => !slot.stopped);
      if (live.length === 0) {
        const why = this.#slots.at(-1)?.stopped;
        for (const call of this.#queue.splice(0)) {
          call.reject(
            new ModelRunError(`every worker thread of the ${this.task} pool has stopped: ${why?.message}`, {
              cause: why,
            }),
          );
        }
        return;
      }
      const slot = live.reduce((best, candidate) =>
        candidate.calls.size < best.calls.size ? candidate : best,
      );
      if (slot.calls.size >= this.callsPerWorker) return;
      const call = this.#queue.shift()!;
      const id = this.#nextId++;
      try {
        slot.worker.postMessage({ type: 'call', id, args: encodeWorkerValue(call.args) } satisfies ToWorker);
      } catch (error) {
        call.reject(
          new InvalidArgumentError(
            `the ${this.task} call's arguments cannot be sent to a worker thread: ${(error as Error).message}`,
            { cause: error },
          ),
        );
        continue;
      }
      if (slot.calls.size === 0) slot.worker.ref();
      slot.calls.set(id, call);
    }
  }
}

function whenReady(worker: Worker): Promise<{ optionsIndex: number | undefined; batched: boolean }> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === 'ready') {
        cleanup();
        resolve({ optionsIndex: message.optionsIndex, batched: message.batched });
      } else if (message.type === 'load-failed') {
        cleanup();
        reject(reviveError(message.error));
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(
        new ModelRunError(`a worker thread failed while loading the task: ${error.message}`, {
          cause: error,
        }),
      );
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new ModelRunError(`a worker thread exited (code ${code}) while loading the task`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
