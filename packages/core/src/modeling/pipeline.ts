import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors.js';
import { describeValue } from '../validation/describe-value.js';
import type { PretrainedOptions } from './pretrained-model.js';

/**
 * What a task helper returns: the async function that runs the task (loaded once, called many times) with
 * `dispose()` to release the models and sessions it holds.
 *
 * @example
 * const classify = await imageClassification('Xenova/vit-base-patch16-224');
 * const labels = await classify('cat.png', { topK: 3 });
 * await classify.dispose();
 */
export type Pipeline<F extends (...args: never[]) => Promise<unknown>> = F & {
  /** Releases the sessions this pipeline loaded (not those of a model instance passed in by the caller). */
  dispose(): Promise<void>;
};

/** Attaches `dispose` to a task function. */
export function makePipeline<F extends (...args: never[]) => Promise<unknown>>(
  run: F,
  dispose: () => Promise<void>,
): Pipeline<F> {
  return Object.assign(run, { dispose });
}

/** Task helpers take a loaded model, or a Hub id / folder (a `file:` URL too) plus the options to load it with. */
export type ModelSource<M> = string | URL | M;

/**
 * Loads the model when given an id, folder or `file:` URL (the pipeline then owns it and disposes it); uses a
 * given instance as is (the caller keeps ownership). Anything else (undefined, an http URL) is an
 * `InvalidArgumentError` naming what was given.
 */
export async function resolveModel<M extends { dispose(): Promise<void> }>(
  source: ModelSource<M>,
  load: (idOrPath: string, options: PretrainedOptions) => Promise<M>,
  options: PretrainedOptions = {},
  where = 'the task helper',
): Promise<{ model: M; owned: boolean }> {
  if (typeof source === 'string') return { model: await load(source, options), owned: true };
  if (source instanceof URL) {
    if (source.protocol !== 'file:') {
      throw new InvalidArgumentError(
        `${where}: a model cannot be loaded from ${source.href}: pass a Hub id ('org/name'), a folder path or a file: URL`,
      );
    }
    return { model: await load(fileURLToPath(source), options), owned: true };
  }
  if (typeof source !== 'object' || source === null || typeof (source as M).dispose !== 'function') {
    throw new InvalidArgumentError(
      `${where}: the model must be a Hub id ('org/name'), a folder path or a loaded model, got ${describeValue(source)}`,
    );
  }
  return { model: source, owned: false };
}
