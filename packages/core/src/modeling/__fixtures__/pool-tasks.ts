// Task helpers for the worker pool's tests, loaded by worker threads as any task module is: a real image classifier
// on the trained digits fixture (core's own classes, no model package), and a model-free task whose options make a
// call slow, fail, or kill its worker thread.
import { threadId } from 'node:worker_threads';
import { InvalidArgumentError } from '../../errors.js';
import { ImageProcessor } from '../../image/image-processor.js';
import { Image } from '../../image/image.js';
import { Tensor } from '../../tensor/tensor.js';
import { imageClassificationTask } from '../image-tasks.js';
import { PreTrainedModel } from '../pretrained-model.js';
import { batchedTaskCall, defineTask, taskCall, textInputs } from '../task.js';

class DigitsClassifier extends PreTrainedModel {}

export const imageClassification = imageClassificationTask(
  (id, options) => DigitsClassifier.fromPretrained(id, options),
  (id, options) => ImageProcessor.fromPretrained(id, options),
);

interface EchoOptions {
  delayMs?: number;
  fail?: boolean;
  exitThread?: boolean;
}

const sleep = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

/** `echo(text, { delayMs, fail, exitThread })` -> the text, the worker's thread id, a Tensor and an Image. */
export const echo = defineTask({
  name: 'echo',
  model: async (id) => ({ nameOrPath: id, dispose: async () => {} }),
  create: () =>
    batchedTaskCall({
      name: 'echo',
      input: textInputs,
      arity: 0,
      options: ['delayMs', 'fail', 'exitThread'] as const,
      run: async (texts, _args, { delayMs = 0, fail, exitThread }: EchoOptions, context) => {
        if (exitThread) process.exit(3);
        await sleep(delayMs, context.signal);
        context.throwIfAborted('echoing');
        if (fail) throw new InvalidArgumentError(`echo was told to fail on ${JSON.stringify(texts[0])}`);
        return texts.map((text) => ({
          text,
          threadId,
          tensor: new Tensor('int32', Int32Array.from([text.length, 7]), [1, 2]),
          image: new Image(Uint8Array.from([1, 2, 3]), 1, 1, 3),
          url: new URL(`https://example.com/${text}`),
        }));
      },
    }),
});

/** A task whose call takes two arguments and no list: `pair(a, b)`. */
export const pair = defineTask({
  name: 'pair',
  model: async (id) => ({ nameOrPath: id, dispose: async () => {} }),
  create: () =>
    taskCall({
      name: 'pair',
      arity: 2,
      options: [] as const,
      run: async ([a, b]: [string, string]) => `${a}+${b}`,
    }),
});

/** Not a task helper. */
export const notATask = 42;
