// The worker thread of a `TaskWorkerPool`: loads one task helper from its module (its own ONNX Runtime session, its
// own JavaScript thread for decoding and preprocessing) and runs the calls the pool sends, several at once.
import { parentPort, workerData } from 'node:worker_threads';
import { InvalidArgumentError } from '../errors.js';
import { taskCallShape } from './task.js';
import {
  type SerializedError,
  decodeWorkerValue,
  encodeWorkerValue,
  reviveError,
  serializeError,
} from './worker-values.js';

/** What the pool gives a worker thread to load. */
export interface TaskWorkerData {
  /** The task module's URL, resolved by the pool. */
  module: string;
  task: string;
  model: string;
  /** Loading options, encoded with `encodeWorkerValue`. */
  options: unknown;
}

/** Pool -> worker. */
export type ToWorker =
  | { type: 'call'; id: number; args: unknown }
  | { type: 'abort'; id: number; reason: SerializedError }
  | { type: 'dispose' };

/** Worker -> pool. */
export type FromWorker =
  | { type: 'ready'; optionsIndex: number | undefined; batched: boolean }
  | { type: 'load-failed'; error: SerializedError }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: SerializedError }
  | { type: 'disposed' };

type Pipeline = ((...args: unknown[]) => Promise<unknown>) & { dispose?: () => Promise<void> };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

async function load(data: TaskWorkerData): Promise<Pipeline> {
  const module = (await import(data.module)) as Record<string, unknown>;
  const helper = module[data.task];
  if (typeof helper !== 'function') {
    const helpers = Object.keys(module).filter(
      (name) => typeof module[name] === 'function' && /^[a-z]/.test(name),
    );
    throw new InvalidArgumentError(
      `${data.module} exports no task helper '${data.task}' (its functions: ${helpers.join(', ') || 'none'})`,
    );
  }
  const pipeline = await (helper as (model: string, options: unknown) => Promise<unknown>)(
    data.model,
    decodeWorkerValue(data.options),
  );
  if (typeof pipeline !== 'function') {
    throw new InvalidArgumentError(
      `${data.task} from ${data.module} did not return a task function (is it a task helper?)`,
    );
  }
  return pipeline as Pipeline;
}

/**
 * The call's arguments with its signal put where the task takes options (signals cannot cross threads: the pool
 * sends an 'abort' message, which fires this one).
 */
function withSignal(pipeline: Pipeline, args: unknown[], signal: AbortSignal): unknown[] {
  const index = taskCallShape(pipeline)?.optionsIndex ?? args.length - 1;
  const given = args[index];
  if (index < 0 || index > args.length || (given !== undefined && !isPlainObject(given))) return args;
  const withOptions = [...args];
  withOptions[index] = { ...(given as object | undefined), signal };
  return withOptions;
}

async function serve(data: TaskWorkerData): Promise<void> {
  const port = parentPort!;
  const post = (message: FromWorker) => port.postMessage(message);
  let pipeline: Pipeline;
  try {
    pipeline = await load(data);
  } catch (error) {
    post({ type: 'load-failed', error: serializeError(error) });
    return;
  }
  const shape = taskCallShape(pipeline);
  const running = new Map<number, AbortController>();
  port.on('message', async (message: ToWorker) => {
    if (message.type === 'abort') {
      running.get(message.id)?.abort(reviveError(message.reason));
      return;
    }
    if (message.type === 'dispose') {
      await pipeline.dispose?.();
      post({ type: 'disposed' });
      port.close();
      return;
    }
    const controller = new AbortController();
    running.set(message.id, controller);
    try {
      const args = withSignal(pipeline, decodeWorkerValue(message.args) as unknown[], controller.signal);
      const value = await pipeline(...args);
      post({ type: 'result', id: message.id, value: encodeWorkerValue(value) });
    } catch (error) {
      post({ type: 'error', id: message.id, error: serializeError(error) });
    } finally {
      running.delete(message.id);
    }
  });
  post({ type: 'ready', optionsIndex: shape?.optionsIndex, batched: shape?.batched ?? false });
}

await serve(workerData as TaskWorkerData);
