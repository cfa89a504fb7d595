import { describe, expect, it } from 'vitest';
import { currentAbortSignal } from '../abort.js';
import { AbortedError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { Image } from '../image/image.js';
import { fixtureImagePath, fixturePath } from '../testing/fixtures.js';
import { batchedTaskCall, defineTask, imageInputs, taskCall, textInputs } from './task.js';

// A real folder: the task builder opens it (one snapshot for the model and its parts) before the loaders run.
const MODEL = fixturePath('vit-cls');

/** A model without graphs: the builder only loads, hands out and disposes it. */
class FakeModel {
  disposed = false;
  constructor(readonly nameOrPath: string) {}
  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

interface Tokenizer {
  lower: boolean;
}

function fakeTask(
  options: {
    loadTokenizer?: () => Promise<Tokenizer>;
    create?: () => void;
    loaded?: FakeModel[];
  } = {},
) {
  const loaded = options.loaded ?? [];
  return defineTask({
    name: 'shout',
    model: async (id) => {
      const model = new FakeModel(id);
      loaded.push(model);
      return model;
    },
    parts: { tokenizer: options.loadTokenizer ?? (async () => ({ lower: false })) },
    options: ['volume'] as const,
    create: ({
      parts: { tokenizer },
      options: { volume = 1 },
    }: {
      parts: { tokenizer: Tokenizer };
      options: { volume?: number };
    }) => {
      options.create?.();
      return batchedTaskCall({
        name: 'shout',
        input: textInputs,
        arity: 0,
        options: ['suffix'] as const,
        run: async (texts, _args, { suffix = '!' }: { suffix?: string }, context) =>
          texts.map((text) => {
            context.throwIfAborted('shouting');
            const loud = tokenizer.lower ? text : text.toUpperCase();
            return `${loud}${suffix.repeat(volume)}`;
          }),
      });
    },
  });
}

describe('defineTask: loading', () => {
  it('loads the model and its parts, and runs', async () => {
    const loaded: FakeModel[] = [];
    const shout = await fakeTask({ loaded })(MODEL, { volume: 2 });
    expect(await shout('hi')).toBe('HI!!');
    expect(await shout(['a', 'b'], { suffix: '?' })).toEqual(['A??', 'B??']);
    await shout.dispose();
    expect(loaded[0]!.disposed).toBe(true);
  });

  it('uses a part given as an option instead of loading it', async () => {
    let loads = 0;
    const task = fakeTask({
      loadTokenizer: async () => {
        loads++;
        return { lower: false };
      },
    });
    const shout = await task(MODEL, { tokenizer: { lower: true } });
    expect(await shout('hi')).toBe('hi!');
    expect(loads).toBe(0);
  });

  it('refuses misspelled or null options, a part that is not an object, and a model that is not one', async () => {
    const task = fakeTask();
    await expect(task(MODEL, { devce: 'cpu' } as never)).rejects.toThrowError(
      new InvalidArgumentError("unknown option 'devce' for shout (did you mean 'device'?)"),
    );
    await expect(task(MODEL, { volum: 2 } as never)).rejects.toThrow("(did you mean 'volume'?)");
    await expect(task(MODEL, null as never)).rejects.toThrowError(
      new InvalidArgumentError('the options of shout must be an object (or left out), got null'),
    );
    await expect(task(MODEL, { tokenizer: 'fast' as never })).rejects.toThrowError(
      new InvalidArgumentError("shout: tokenizer must be a loaded tokenizer object, got 'fast'"),
    );
    await expect(task(undefined as never)).rejects.toThrowError(
      new InvalidArgumentError(
        "shout: the model must be a Hub id ('org/name'), a folder path or a loaded model, got undefined",
      ),
    );
    await expect(task(new URL('https://example.com/model') as never)).rejects.toThrow(
      'shout: a model cannot be loaded from https://example.com/model',
    );
  });

  it('takes a file: URL as a folder', async () => {
    const loaded: FakeModel[] = [];
    await fakeTask({ loaded })(new URL('file:///models/shout'));
    expect(loaded[0]!.nameOrPath).toBe('/models/shout');
  });

  it("disposes a model it loaded when a part fails to load (the error is the part's)", async () => {
    const loaded: FakeModel[] = [];
    const task = fakeTask({
      loaded,
      loadTokenizer: async () => {
        throw new ModelNotFoundError('tokenizer.json not found');
      },
    });
    await expect(task(MODEL)).rejects.toThrowError(new ModelNotFoundError('tokenizer.json not found'));
    expect(loaded).toHaveLength(1);
    expect(loaded[0]!.disposed).toBe(true);
  });

  it('disposes a model it loaded when create throws, but never a model the caller passed', async () => {
    const loaded: FakeModel[] = [];
    const failing = fakeTask({
      loaded,
      create: () => {
        throw new InvalidArgumentError('bad setting');
      },
    });
    await expect(failing(MODEL)).rejects.toThrow('bad setting');
    expect(loaded[0]!.disposed).toBe(true);
    const mine = new FakeModel('mine');
    await expect(failing(mine)).rejects.toThrow('bad setting');
    expect(mine.disposed).toBe(false);
    const shout = await fakeTask()(mine);
    await shout.dispose();
    expect(mine.disposed).toBe(false);
  });

  it('stops with AbortedError when the signal fires during loading, releasing what was loaded', async () => {
    const loaded: FakeModel[] = [];
    const controller = new AbortController();
    const task = fakeTask({
      loaded,
      loadTokenizer: async () => {
        controller.abort();
        return { lower: false };
      },
    });
    await expect(task(MODEL, { signal: controller.signal })).rejects.toThrowError(
      new AbortedError('shout: loading was aborted'),
    );
    expect(loaded[0]!.disposed).toBe(true);
    await expect(fakeTask()(MODEL, { signal: AbortSignal.abort() })).rejects.toThrow(AbortedError);
  });
});

describe('task calls', () => {
  it('check their options: unknown keys, null, a signal that is not one', async () => {
    const shout = await fakeTask()(MODEL);
    await expect(shout('a', { sufix: '?' } as never)).rejects.toThrowError(
      new InvalidArgumentError("unknown option 'sufix' for the shout call (did you mean 'suffix'?)"),
    );
    await expect(shout('a', null as never)).rejects.toThrow(
      'the options of the shout call must be an object',
    );
    await expect(shout('a', { signal: 'stop' as never })).rejects.toThrow(
      'signal of the shout call must be an AbortSignal',
    );
    await expect((shout as (...args: unknown[]) => Promise<unknown>)('a', {}, {})).rejects.toThrowError(
      new InvalidArgumentError('shout takes 0 arguments and an optional options object, got 2 arguments'),
    );
  });

  it('batch: one input gives one result, a list one per input, an empty list is an error', async () => {
    const shout = await fakeTask()(MODEL);
    const one: string = await shout('a');
    const many: string[] = await shout(['a', 'b', 'c']);
    expect(one).toBe('A!');
    expect(many).toEqual(['A!', 'B!', 'C!']);
    await expect(shout([])).rejects.toThrowError(
      new InvalidArgumentError('shout got an empty list: give at least one text'),
    );
    await expect(shout([1] as never)).rejects.toThrowError(
      new InvalidArgumentError('a text must be a string (or give a list of strings), got 1'),
    );
  });

  it('honour the signal: before the call, between steps, and as the ambient signal of session runs', async () => {
    const shout = await fakeTask()(MODEL);
    await expect(shout('a', { signal: AbortSignal.abort('closed') })).rejects.toThrowError(
      new AbortedError('shout: starting was aborted: closed'),
    );
    const controller = new AbortController();
    const seen: (AbortSignal | undefined)[] = [];
    const call = taskCall({
      name: 'probe',
      arity: 1,
      options: [],
      run: async ([value]: [number], _options, context) => {
        seen.push(currentAbortSignal());
        await new Promise((resolve) => setTimeout(resolve, 1));
        controller.abort();
        context.throwIfAborted('second step');
        return value;
      },
    });
    await expect(call(1, { signal: controller.signal })).rejects.toThrowError(
      new AbortedError('probe: second step was aborted'),
    );
    expect(seen).toEqual([controller.signal]);
  });

  it('imageInputs loads images before the run (a bad one is named)', async () => {
    const sizes = batchedTaskCall({
      name: 'sizes',
      input: imageInputs,
      arity: 0,
      options: [],
      run: async (images: Image[]) => images.map((image) => `${image.width}x${image.height}`),
    });
    expect(await sizes([fixtureImagePath('cats.png'), new Image(new Uint8Array(12), 2, 2, 3)])).toEqual([
      '640x480',
      '2x2',
    ]);
    await expect(sizes('/nonexistent.png')).rejects.toThrow('/nonexistent.png');
  });
});
