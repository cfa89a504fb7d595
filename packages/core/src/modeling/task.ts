import { abortable, asAbortedError, checkAbortSignal, throwIfAborted, withAbortSignal } from '../abort.js';
import { InvalidArgumentError } from '../errors.js';
import { type ModelRepo, openModelRepo } from '../hub/model-repo.js';
import { RESOLVE_OPTIONS, type ResolveOptions } from '../hub/resolve.js';
import type { Image } from '../image/image.js';
import { type ImageInput, loadImages } from '../image/load.js';
import { describeValue } from '../validation/describe-value.js';
import { type OptionNames, checkOptions, pickOptions } from '../validation/option-names.js';
import { type ModelSource, type Pipeline, makePipeline, resolveModel } from './pipeline.js';
import { PRETRAINED_OPTIONS, type PretrainedOptions } from './pretrained-model.js';

/** Loads a model, or a part of one (processor, tokenizer), from a Hub id or folder. */
export type Loader<T, O = PretrainedOptions> = (idOrPath: string, options: O) => Promise<T>;

/** Options every task call takes, after the task's own. */
export interface TaskCallOptions {
  /**
   * Stops the call with `AbortedError` between its steps: loading images (URL downloads stop at once), preprocessing,
   * each ONNX Runtime run, post-processing. A run already started finishes first (ONNX Runtime cannot interrupt
   * one); its result is then dropped.
   */
  signal?: AbortSignal;
}

/**
 * A task helper's loading options: every `fromPretrained` option of the model (`device`, `dtype`, `signal`...),
 * the parts the task loads from the model's folder (`processor`, `tokenizer`) given ready-made instead, and the
 * task's own options `X`.
 */
export type TaskLoadOptions<P extends object = object, X extends object = object> = PretrainedOptions &
  Partial<P> &
  X;

/** What a task's run gets besides its arguments: the call's signal and the steps that honour it. */
export interface TaskContext {
  /** The call's `signal`, if it has one (session runs inside the call check it on their own). */
  readonly signal: AbortSignal | undefined;
  /** Throws `AbortedError` when the call's signal fired; a task calls it between its own steps. */
  throwIfAborted(step: string): void;
  /** `loadImages` with the call's signal (for inputs besides the batched one: query images, image prompts). */
  loadImages(inputs: readonly ImageInput[]): Promise<Image[]>;
}

/** How a batched task reads its first argument: one item or a list of them, made ready for the run. */
export interface TaskInputKind<I, T> {
  /** What one item is called in messages ('image', 'text'). */
  readonly noun: string;
  /** Checks and converts the items in order (images are loaded with the call's signal). */
  prepare(items: readonly I[], context: TaskContext): Promise<T[]>;
}

/** Images: anything `loadImage` reads, loaded (with the call's signal) before the run. */
export const imageInputs: TaskInputKind<ImageInput, Image> = {
  noun: 'image',
  prepare: (items, context) => context.loadImages(items),
};

/** Texts: strings, checked one by one. */
export const textInputs: TaskInputKind<string, string> = {
  noun: 'text',
  prepare: async (items) => {
    items.forEach((item, i) => {
      if (typeof item !== 'string') {
        throw new InvalidArgumentError(
          `a text must be a string (or give a list of strings), got ${describeValue(item)}${items.length > 1 ? ` at index ${i}` : ''}`,
        );
      }
    });
    return [...items];
  },
};

/**
 * A task call on one input or a list of them: one input gives `R`, a list gives `R[]` (one per input, in order).
 * `A` are the arguments after the input (labels, prompts...), `O` the call's options.
 *
 * @example
 * const classify = await imageClassification('./vit');
 * const labels: LabelScore[] = await classify('cat.png');
 * const perImage: LabelScore[][] = await classify(['cat.png', 'dog.png'], { topK: 3 });
 */
export interface BatchedTaskFunction<I, A extends unknown[], O, R> {
  (input: I, ...rest: [...A, options?: O & TaskCallOptions]): Promise<R>;
  (inputs: readonly I[], ...rest: [...A, options?: O & TaskCallOptions]): Promise<R[]>;
  (inputs: I | readonly I[], ...rest: [...A, options?: O & TaskCallOptions]): Promise<R | R[]>;
}

/** A task call that does not batch its first argument (two frames, tensors, a whole list in one tensor). */
export type TaskFunction<A extends unknown[], O, R> = (
  ...args: [...A, options?: O & TaskCallOptions]
) => Promise<R>;

export interface TaskCallSpec<A extends unknown[], O, R> {
  /** The task's name as messages show it ('opticalFlow'). */
  name: string;
  /** How many arguments come before the options. */
  arity: A['length'];
  /** The keys of the call's options besides `signal` (from the one list beside the options type). */
  options: OptionNames<O>;
  run(args: A, options: O, context: TaskContext): Promise<R>;
}

export interface BatchedTaskCallSpec<I, T, A extends unknown[], O, R> {
  /** The task's name as messages show it ('zeroShotObjectDetection'). */
  name: string;
  /** How the first argument is read: `imageInputs` or `textInputs`. */
  input: TaskInputKind<I, T>;
  /** How many arguments come after the input and before the options. */
  arity: A['length'];
  /** The keys of the call's options besides `signal`. */
  options: OptionNames<O>;
  /** Runs the task on a list of ready inputs; returns one result per input, in order. */
  run(inputs: T[], args: A, options: O, context: TaskContext): Promise<R[]>;
}

/**
 * The first argument of a task call as a list of ready inputs: one input or a list (an empty list is an
 * `InvalidArgumentError`), checked and converted by `kind`. `single` says whether one input was given.
 */
export async function prepareInputs<I, T>(
  kind: TaskInputKind<I, T>,
  value: I | readonly I[],
  context: TaskContext,
  name: string,
): Promise<{ items: T[]; single: boolean }> {
  const single = !Array.isArray(value);
  const list = single ? [value as I] : [...(value as readonly I[])];
  if (list.length === 0) {
    throw new InvalidArgumentError(`${name} got an empty list: give at least one ${kind.noun}`);
  }
  const items = await kind.prepare(list, context);
  context.throwIfAborted(`after loading the ${kind.noun}s`);
  return { items, single };
}

function contextFor(name: string, signal: AbortSignal | undefined): TaskContext {
  return {
    signal,
    throwIfAborted: (step) => throwIfAborted(signal, `${name}: ${step}`),
    loadImages: async (inputs) => {
      throwIfAborted(signal, `${name}: loading images`);
      return loadImages(inputs, signal ? { signal } : {});
    },
  };
}

/**
 * Splits a call's arguments into the positional ones and the options, checks the options (unknown keys, `null`,
 * `signal`), and runs `body` with the call's signal in effect for every session run inside it.
 */
async function runCall<R>(
  name: string,
  args: readonly unknown[],
  arity: number,
  optionNames: readonly string[],
  body: (positional: unknown[], options: Record<string, unknown>, context: TaskContext) => Promise<R>,
): Promise<R> {
  if (args.length > arity + 1) {
    throw new InvalidArgumentError(
      `${name} takes ${arity} argument${arity === 1 ? '' : 's'} and an optional options object, got ${args.length} arguments`,
    );
  }
  const { signal: rawSignal, ...options } = checkOptions(
    args[arity] as Record<string, unknown> | undefined,
    [...optionNames, 'signal'],
    `the ${name} call`,
  );
  const signal = checkAbortSignal(rawSignal, `the ${name} call`);
  const context = contextFor(name, signal);
  try {
    context.throwIfAborted('starting');
    return await withAbortSignal(signal, () => body(args.slice(0, arity), options, context));
  } catch (error) {
    throw asAbortedError(error, signal, name);
  }
}

/**
 * Builds a task call that takes fixed arguments then options (`opticalFlow`'s two frames): the options are checked
 * (an unknown key names the closest valid one), `signal` is honoured between steps and by every session run.
 *
 * @example
 * const flow = taskCall({ name: 'opticalFlow', arity: 2, options: OPTICAL_FLOW_OPTIONS, run: ([a, b], options, context) => ... });
 */
export function taskCall<A extends unknown[], O, R>(spec: TaskCallSpec<A, O, R>): TaskFunction<A, O, R> {
  return (...args) =>
    runCall(spec.name, args, spec.arity, spec.options, (positional, options, context) =>
      spec.run(positional as A, options as O, context),
    );
}

/**
 * Builds a task call over one input or a list of them (see `BatchedTaskFunction`): the inputs are checked and
 * made ready (`imageInputs` loads images with the call's signal), `run` gets them as a list, and a single input
 * gets its result unwrapped. An empty list is an `InvalidArgumentError`.
 *
 * @example
 * const classify = batchedTaskCall({
 *   name: 'imageClassification', input: imageInputs, arity: 0, options: CLASSIFY_OPTIONS,
 *   run: async (images, _args, options) => classifyLogits((await model.forward(await processor.preprocess(images))).logits, model.config, options),
 * });
 */
export function batchedTaskCall<I, T, A extends unknown[], O, R>(
  spec: BatchedTaskCallSpec<I, T, A, O, R>,
): BatchedTaskFunction<I, A, O, R> {
  const { name, input, arity } = spec;
  const call = (first: unknown, ...rest: unknown[]) =>
    runCall(name, rest, arity, spec.options, async (positional, options, context) => {
      const { items, single } = await prepareInputs(input, first as I | readonly I[], context, name);
      const results = await spec.run(items, positional as A, options as O, context);
      return single ? results[0]! : results;
    });
  return call as unknown as BatchedTaskFunction<I, A, O, R>;
}

/** Everything a task's `create` gets: the model, its parts, the task's own loading options, and the task name. */
export interface LoadedTask<M, P extends object, X extends object> {
  readonly name: string;
  readonly model: M;
  readonly parts: P;
  /** The task's own loading options (keys checked; values are the task's to check). */
  readonly options: X;
}

/** What `defineTask` needs to know about a task. */
export interface TaskDefinition<
  M extends { dispose(): Promise<void> },
  P extends object,
  X extends object,
  F,
> {
  /** The task helper's name, as messages show it ('zeroShotObjectDetection'). */
  name: string;
  /** Loads the model from a Hub id or folder with the loading options. */
  model: Loader<M>;
  /** Parts read from the model's folder (with the Hub options only) unless given under the same option name. */
  parts?: { readonly [K in keyof P]: Loader<P[K], ResolveOptions> };
  /** The keys of the task's own loading options (from the one list beside their type). */
  options?: OptionNames<X>;
  /** Builds the task function (with `batchedTaskCall` / `taskCall`) from what was loaded. */
  create(loaded: LoadedTask<M, P, X>): F | Promise<F>;
}

/** A task helper: loads once (from a Hub id, a folder, or a model you loaded) and returns the task function. */
export type TaskHelper<
  M,
  P extends object,
  X extends object,
  F extends (...args: never[]) => Promise<unknown>,
> = (model: ModelSource<M>, options?: TaskLoadOptions<P, X>) => Promise<Pipeline<F>>;

/**
 * The one task builder: every task helper of every package is this with its loaders and its run. It
 * - checks the loading options (an unknown key names the closest valid one; `null` is an error, not a TypeError),
 * - loads the model from a Hub id or folder (the pipeline then owns it) or takes a loaded model (you keep it),
 * - loads each part (`processor`, `tokenizer`) from the model's folder unless given, beside the model,
 * - honours `signal` between the loads (`AbortedError`), and disposes a model it loaded when anything after it
 *   fails or is aborted (a processor or tokenizer that does not load leaks nothing),
 * - returns the task function with `dispose()`.
 *
 * @example
 * export const imageSegmentation = defineTask({
 *   name: 'imageSegmentation',
 *   model: (id, options) => Mask2FormerForUniversalSegmentation.fromPretrained(id, options),
 *   parts: { processor: (id, options) => Mask2FormerImageProcessor.fromPretrained(id, options) },
 *   create: ({ model, parts }) => batchedTaskCall({ ... }),
 * });
 */
export function defineTask<
  M extends { dispose(): Promise<void>; readonly nameOrPath: string },
  P extends object,
  X extends object,
  F extends (...args: never[]) => Promise<unknown>,
>(definition: TaskDefinition<M, P, X, F>): TaskHelper<M, P, X, F> {
  const { name } = definition;
  const partLoaders = (definition.parts ?? {}) as Record<string, Loader<unknown, ResolveOptions>>;
  const partNames = Object.keys(partLoaders);
  const taskNames: readonly string[] = definition.options ?? [];
  const valid = [...PRETRAINED_OPTIONS, ...partNames, ...taskNames];
  return async (source, options) => {
    const checked = checkOptions(options, valid, name) as Record<string, unknown>;
    const signal = checkAbortSignal(checked.signal, name);
    const loadOptions = pickOptions<PretrainedOptions>(checked, PRETRAINED_OPTIONS);
    const hubOptions = pickOptions<ResolveOptions>(checked, RESOLVE_OPTIONS);
    const taskOptions = pickOptions<X>(checked, taskNames as OptionNames<X>);
    for (const part of partNames) {
      const given = checked[part];
      if (given !== undefined && (typeof given !== 'object' || given === null)) {
        throw new InvalidArgumentError(
          `${name}: ${part} must be a loaded ${part} object, got ${describeValue(given)}`,
        );
      }
    }
    throwIfAborted(signal, `${name}: loading`);
    // One snapshot for the model and its parts: the same commit, and one question to the Hub for the file list.
    if (typeof source === 'string' && hubOptions.repo === undefined) {
      const repo = await abortable(signal, `${name}: opening ${JSON.stringify(source)}`, () =>
        openModelRepo(source, hubOptions),
      );
      loadOptions.repo = repo;
      hubOptions.repo = repo;
    } else if (
      typeof source === 'object' &&
      source !== null &&
      !(source instanceof URL) &&
      hubOptions.repo === undefined
    ) {
      hubOptions.repo = (source as { readonly repo?: ModelRepo }).repo;
    }
    // The model and its parts load side by side; whatever fails, a model this call loaded is released.
    const modelLoad = abortable(signal, `${name}: loading the model`, () =>
      resolveModel(source, definition.model, loadOptions, name),
    );
    const partLoads = partNames.map(async (part) => {
      if (checked[part] !== undefined) return checked[part];
      const from = typeof source === 'string' ? source : (await modelLoad).model.nameOrPath;
      return abortable(signal, `${name}: loading the ${part}`, () => partLoaders[part]!(from, hubOptions));
    });
    const [model, ...parts] = await Promise.allSettled([modelLoad, ...partLoads]);
    const release = async () => {
      if (model.status === 'fulfilled' && model.value.owned) await model.value.model.dispose();
    };
    try {
      if (model.status === 'rejected') throw model.reason;
      const failed = parts.find((part) => part.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      throwIfAborted(signal, `${name}: loading`);
      const loaded = model.value;
      const partValues = Object.fromEntries(
        partNames.map((part, i) => [part, (parts[i] as PromiseFulfilledResult<unknown>).value]),
      ) as P;
      const run = await definition.create({
        name,
        model: loaded.model,
        parts: partValues,
        options: taskOptions,
      });
      return makePipeline(run, release);
    } catch (error) {
      await release();
      throw error;
    }
  };
}
