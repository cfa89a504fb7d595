import { describe, expect, it } from 'vitest';
import { AbortedError, InvalidArgumentError, InvalidImageError } from '../errors.js';
import { type MapProgress, type MapResult, mapInOrder } from './map-in-order.js';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new AbortedError('stopped while sleeping'));
    });
  });

/** A call that records how many run at once and which have started, and takes `delays[input]` ms. */
function tracked(delays: Record<number, number> = {}) {
  const state = { running: 0, maxRunning: 0, started: [] as number[], signals: [] as AbortSignal[] };
  const call = async (input: number, signal: AbortSignal) => {
    state.started.push(input);
    state.signals.push(signal);
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    try {
      await sleep(delays[input] ?? 5, signal);
      if (input < 0) throw new InvalidImageError(`input ${input} is not an image`);
      return input * 10;
    } finally {
      state.running--;
    }
  };
  return { state, call };
}

const values = (items: MapResult<number, number>[]) =>
  items.map((item) => (item.ok ? item.result : `${item.error.name}: ${item.error.message}`));

describe('mapInOrder', () => {
  it('gives results in input order with at most `concurrency` calls at once, whatever order they finish in', async () => {
    // Early inputs are slow, late ones fast: they finish out of order.
    const { state, call } = tracked({ 0: 60, 1: 40, 2: 5, 3: 30, 4: 1, 5: 1, 6: 20, 7: 1 });
    const items = await mapInOrder([0, 1, 2, 3, 4, 5, 6, 7], call, { concurrency: 3 }).toArray();
    expect(items.map((item) => item.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(items.map((item) => item.input)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(values(items)).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(state.maxRunning).toBe(3);
  });

  it('runs one at a time with concurrency 1, and 2 at once by default', async () => {
    const one = tracked();
    await mapInOrder([1, 2, 3, 4], one.call, { concurrency: 1 }).toArray();
    expect(one.state.maxRunning).toBe(1);
    const two = tracked();
    await mapInOrder([1, 2, 3, 4, 5], two.call).toArray();
    expect(two.state.maxRunning).toBe(2);
  });

  it('streams: the first result arrives before the slow last input has finished', async () => {
    const { state, call } = tracked({ 0: 1, 1: 200 });
    const iterator = mapInOrder([0, 1], call, { concurrency: 2 });
    const first = await iterator.next();
    expect(first.value).toMatchObject({ index: 0, ok: true, result: 0 });
    expect(state.running).toBe(1);
    expect((await iterator.next()).value).toMatchObject({ index: 1, ok: true, result: 10 });
    expect((await iterator.next()).done).toBe(true);
  });

  it('pulls a generator lazily: never more than 2 x concurrency inputs ahead of the consumer', async () => {
    let pulled = 0;
    function* numbers() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const { call } = tracked();
    const iterator = mapInOrder(numbers(), call, { concurrency: 2 });
    await iterator.next();
    await sleep(50);
    // One handed out, at most 4 started or finished and waiting, one more being pulled.
    expect(pulled).toBeLessThanOrEqual(6);
    await iterator.return?.();
  });

  it('takes async iterables', async () => {
    async function* numbers() {
      for (let i = 0; i < 5; i++) {
        await sleep(1);
        yield i;
      }
    }
    const { call } = tracked();
    expect(values(await mapInOrder(numbers(), call).toArray())).toEqual([0, 10, 20, 30, 40]);
  });

  it('reports a failed input as an item with its typed error, and the others go on', async () => {
    const { call } = tracked();
    const items = await mapInOrder([1, -2, 3, -4, 5], call).toArray();
    expect(items.map((item) => item.ok)).toEqual([true, false, true, false, true]);
    const failed = items[1]!;
    expect(failed.ok || failed.error).toBeInstanceOf(InvalidImageError);
    expect(values(items)).toEqual([
      10,
      'InvalidImageError: input -2 is not an image',
      30,
      'InvalidImageError: input -4 is not an image',
      50,
    ]);
  });

  it('turns a call that throws instead of rejecting into that input failing', async () => {
    const call = (input: number) => {
      if (input === 2) throw new InvalidArgumentError('two is not allowed');
      return Promise.resolve(input);
    };
    expect(values(await mapInOrder([1, 2, 3], call).toArray())).toEqual([
      1,
      'InvalidArgumentError: two is not allowed',
      3,
    ]);
  });

  it('stopOnError: throws the first failure in input order, starts nothing after it and leaves nothing running', async () => {
    // Input -3 fails first in time, but input -1 (slower) fails earlier in input order: that is the one reported.
    const { state, call } = tracked({ [-1]: 40, [-3]: 1 });
    const seen: number[] = [];
    const run = async () => {
      for await (const item of mapInOrder([0, -1, 2, -3, 4, 5, 6, 7, 8], call, {
        concurrency: 4,
        stopOnError: true,
      })) {
        seen.push(item.index);
      }
    };
    await expect(run()).rejects.toThrow(new InvalidImageError('input -1 is not an image'));
    expect(seen).toEqual([0]);
    expect(state.running).toBe(0);
    expect(state.started).not.toContain(8);
  });

  it('aborts: no input starts after the signal fires, the running calls get it, and AbortedError comes once they settled', async () => {
    const { state, call } = tracked(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [i, 30])));
    const controller = new AbortController();
    const seen: number[] = [];
    const run = async () => {
      for await (const item of mapInOrder(
        Array.from({ length: 20 }, (_, i) => i),
        call,
        { concurrency: 2, signal: controller.signal },
      )) {
        seen.push(item.index);
        if (item.index === 2) controller.abort();
      }
    };
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as Error).message).toBe('mapInOrder was aborted');
    expect(seen).toEqual([0, 1, 2]);
    expect(state.running).toBe(0);
    expect(state.started.length).toBeLessThanOrEqual(7);
    expect(state.signals.every((signal) => signal.aborted)).toBe(true);
  });

  it('an already aborted signal runs nothing', async () => {
    const { state, call } = tracked();
    const run = mapInOrder([1, 2], call, { signal: AbortSignal.abort() });
    await expect(run.toArray()).rejects.toThrow(AbortedError);
    expect(state.started).toEqual([]);
  });

  it('leaving a for-await early stops the run, waits for the running calls and closes the source', async () => {
    let closed = false;
    function* numbers() {
      try {
        for (let i = 0; i < 100; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const { state, call } = tracked();
    for await (const item of mapInOrder(numbers(), call, { concurrency: 3 })) {
      if (item.index === 1) break;
    }
    expect(state.running).toBe(0);
    expect(closed).toBe(true);
    expect(state.started.length).toBeLessThan(10);
  });

  it('reports progress after each input: done, failed, total, elapsed time and inputs per second', async () => {
    const progress: MapProgress[] = [];
    const { call } = tracked();
    await mapInOrder([1, -2, 3], call, { concurrency: 1, onProgress: (p) => progress.push(p) }).toArray();
    expect(progress.map(({ done, failed, total }) => ({ done, failed, total }))).toEqual([
      { done: 1, failed: 0, total: 3 },
      { done: 2, failed: 1, total: 3 },
      { done: 3, failed: 1, total: 3 },
    ]);
    const last = progress.at(-1)!;
    expect(last.elapsedMs).toBeGreaterThan(0);
    expect(last.perSecond).toBeCloseTo((3 * 1000) / last.elapsedMs, 6);
  });

  it('knows the total of arrays and sets, takes it as an option for iterators, and leaves it undefined otherwise', async () => {
    const totals = async (inputs: Iterable<number>, total?: number) => {
      const seen: (number | undefined)[] = [];
      const options = { onProgress: (p: MapProgress) => seen.push(p.total), ...(total ? { total } : {}) };
      await mapInOrder(inputs, async (n: number) => n, options).toArray();
      return seen[0];
    };
    expect(await totals(new Set([1, 2]))).toBe(2);
    expect(await totals([1, 2, 3][Symbol.iterator]())).toBeUndefined();
    expect(await totals([1, 2, 3][Symbol.iterator](), 3)).toBe(3);
  });

  it('ends with the error of a progress callback that throws, as a for-await body would', async () => {
    const run = mapInOrder([1, 2, 3], async (n: number) => n, {
      onProgress: () => {
        throw new Error('progress bar broke');
      },
    });
    await expect(run.toArray()).rejects.toThrow('progress bar broke');
  });

  it('ends with the error of a source that throws, after the running calls settled', async () => {
    function* broken() {
      yield 1;
      throw new Error('listing the folder failed');
    }
    const { state, call } = tracked();
    await expect(mapInOrder(broken(), call).toArray()).rejects.toThrow('listing the folder failed');
    expect(state.running).toBe(0);
  });

  it('refuses one input where a list is expected, and bad options, before running anything', () => {
    const call = async (n: unknown) => n;
    expect(() => mapInOrder('cat.png' as unknown as string[], call)).toThrow(
      new InvalidArgumentError(
        "mapInOrder got one input ('cat.png'), not a list of them: give a list (or an iterable) of inputs, e.g. [input]",
      ),
    );
    expect(() => mapInOrder(Buffer.from([1, 2]) as unknown as number[], call)).toThrow(/got one input/);
    expect(() => mapInOrder(42 as unknown as number[], call)).toThrow(
      /mapInOrder got 42: give a list \(or an iterable\) of inputs/,
    );
    expect(() => mapInOrder([1], call, { concurrency: 0 })).toThrow(
      new InvalidArgumentError('concurrency of mapInOrder must be an integer >= 1, got 0'),
    );
    expect(() => mapInOrder([1], call, { concurency: 2 } as never)).toThrow(/did you mean 'concurrency'/);
    expect(() => mapInOrder([1], call, { stopOnError: 'yes' } as never)).toThrow(
      /stopOnError of mapInOrder must be true or false/,
    );
    expect(() => mapInOrder([1], call, { signal: 'stop' } as never)).toThrow(/must be an AbortSignal/);
  });
});
