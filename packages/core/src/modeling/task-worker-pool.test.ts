import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  DisposedError,
  InvalidArgumentError,
  InvalidImageError,
  MissingDependencyError,
  ModelNotFoundError,
  ModelRunError,
} from '../errors.js';
import { Image } from '../image/image.js';
import { Tensor } from '../tensor/tensor.js';
import { fixtureImagePath, fixturePath } from '../testing/fixtures.js';
import { loadFixture } from '../testing/manifest.js';
import { type echo, imageClassification, type pair } from './__fixtures__/pool-tasks.js';
import type { ImageClassificationFunction } from './image-tasks.js';
import { TaskWorkerPool } from './task-worker-pool.js';

// The pool's workers load the task module as users' would: by URL, in threads of their own.
const MODULE = new URL('./__fixtures__/pool-tasks.ts', import.meta.url).href;
const DIGITS = fixturePath('vit-digits');
const digits = readdirSync(fixtureImagePath('digits'))
  .sort()
  .map((name) => fixtureImagePath(`digits/${name}`));

type EchoFunction = Awaited<ReturnType<typeof echo>>;
type PairFunction = Awaited<ReturnType<typeof pair>>;

describe('TaskWorkerPool on the trained digits ViT', () => {
  it('gives exactly the results of the task in this thread, by run and by map (in input order)', async () => {
    const sessionOptions = { intraOpNumThreads: 1 };
    const pool = await TaskWorkerPool.create<ImageClassificationFunction>(
      { module: MODULE, task: 'imageClassification', model: DIGITS, options: { sessionOptions } },
      { workers: 2 },
    );
    const local = await imageClassification(DIGITS, { sessionOptions });
    try {
      expect(pool.workers).toBe(2);
      const expected = await local(digits, { topK: 3 });
      const items = await pool.map(digits, { topK: 3 }).toArray();
      expect(items.map((item) => item.input)).toEqual(digits);
      expect(items.map((item) => (item.ok ? item.result : item.error))).toEqual(expected);
      expect(await pool.run(digits[3]!, { topK: 3 })).toEqual(expected[3]);
      // And the reference: the fixture's pipeline case computed by transformers in Python.
      const fixture = await loadFixture(DIGITS);
      const reference = fixture.manifest.pipeline.find((c) => c.name === 'digit-1022')!;
      const labels = await pool.run(fixtureImagePath('digits/digit_1022_4.png'), { topK: 3 });
      const expectedLabels = reference.expected as { label: string; score: number }[];
      expect(labels.map((l) => l.label)).toEqual(expectedLabels.map((l) => l.label));
      labels.forEach((l, i) => expect(Math.abs(l.score - expectedLabels[i]!.score)).toBeLessThan(1e-4));
    } finally {
      await pool.dispose();
      await local.dispose();
    }
  });

  it('fails one bad input with its typed error (rebuilt on this side) and classifies the others', async () => {
    const pool = await TaskWorkerPool.create<ImageClassificationFunction>(
      { module: MODULE, task: 'imageClassification', model: DIGITS },
      { workers: 1 },
    );
    try {
      const missing = fixtureImagePath('digits/no-such-digit.png');
      const items = await pool.map([digits[0]!, missing, digits[1]!], { topK: 1 }).toArray();
      expect(items.map((item) => item.ok)).toEqual([true, false, true]);
      const failed = items[1]!;
      if (failed.ok) throw new Error('expected a failure');
      expect(failed.error).toBeInstanceOf(InvalidImageError);
      expect(failed.error.message).toContain('no-such-digit.png');
      expect(failed.error.stack).toContain('load');
    } finally {
      await pool.dispose();
    }
  });
});

describe('TaskWorkerPool: calls, cancellation, failures', () => {
  let pool: TaskWorkerPool<EchoFunction>;
  beforeAll(async () => {
    pool = await TaskWorkerPool.create<EchoFunction>(
      { module: MODULE, task: 'echo', model: DIGITS },
      { workers: 2, callsPerWorker: 2 },
    );
  });
  afterAll(() => pool.dispose());

  it('rebuilds Tensors, Images and URLs in results, and spreads calls over the workers', async () => {
    const items = await pool.map(['a', 'bb', 'ccc', 'dddd', 'e', 'f'], { delayMs: 20 }).toArray();
    const results = items.map((item) => (item.ok ? item.result : undefined));
    expect(results.map((r) => r?.text)).toEqual(['a', 'bb', 'ccc', 'dddd', 'e', 'f']);
    const first = results[2]!;
    expect(first.tensor).toBeInstanceOf(Tensor);
    expect(first.tensor.dims).toEqual([1, 2]);
    expect([...first.tensor.data]).toEqual([3, 7]);
    expect(first.image).toBeInstanceOf(Image);
    expect(first.image.width).toBe(1);
    expect(first.url).toBeInstanceOf(URL);
    expect(first.url.href).toBe('https://example.com/ccc');
    expect(new Set(results.map((r) => r?.threadId)).size).toBe(2);
  });

  it('runs at most workers x callsPerWorker calls at once and queues the rest', async () => {
    const calls = Array.from({ length: 7 }, (_, i) => pool.run(`x${i}`, { delayMs: 30 }));
    expect(pool.pending).toEqual({ queued: 3, running: 4 });
    expect((await Promise.all(calls)).map((r) => r.text)).toEqual(calls.map((_, i) => `x${i}`));
    expect(pool.pending).toEqual({ queued: 0, running: 0 });
  });

  it('a failing call rejects with the typed error, and the pool goes on', async () => {
    await expect(pool.run('boom', { fail: true })).rejects.toThrow(
      new InvalidArgumentError('echo was told to fail on "boom"'),
    );
    await expect(pool.run('boom', { fail: true })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await pool.run('fine')).text).toBe('fine');
  });

  it('checks the call in the worker: an unknown option is an InvalidArgumentError', async () => {
    await expect(pool.run('x', { delay: 5 } as never)).rejects.toThrow(/unknown option 'delay'.*'delayMs'/);
  });

  it('a signal stops a running call (AbortedError from the worker) and a queued one (at once)', async () => {
    const controller = new AbortController();
    const busy = Array.from({ length: 4 }, () => pool.run('busy', { delayMs: 80 }));
    const queued = pool.run('queued', { delayMs: 10, signal: controller.signal });
    expect(pool.pending.queued).toBe(1);
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(AbortedError);
    expect(pool.pending.queued).toBe(0);
    await Promise.all(busy);

    const running = pool.run('slow', { delayMs: 5000, signal: AbortSignal.timeout(50) });
    const error = await running.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).timedOut).toBe(true);
    expect((error as Error).message).toMatch(/^echo: echoing timed out/);
    expect(pool.pending).toEqual({ queued: 0, running: 0 });
  });

  it('map with a signal throws AbortedError once nothing is running any more', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const run = async () => {
      const inputs = Array.from({ length: 30 }, (_, i) => `m${i}`);
      for await (const item of pool.map(inputs, { delayMs: 20, signal: controller.signal })) {
        seen.push(item.input);
        if (seen.length === 3) controller.abort();
      }
    };
    await expect(run()).rejects.toBeInstanceOf(AbortedError);
    expect(seen).toEqual(['m0', 'm1', 'm2']);
    expect(pool.pending).toEqual({ queued: 0, running: 0 });
  });

  it('refuses arguments that cannot be sent to a worker thread', async () => {
    await expect(pool.run(((x: string) => x) as never)).rejects.toThrow(
      /echo call's arguments cannot be sent to a worker thread/,
    );
  });
});

describe('TaskWorkerPool: loading and lifetime', () => {
  it('a worker thread that exits fails its calls with ModelRunError; the other worker goes on', async () => {
    const pool = await TaskWorkerPool.create<EchoFunction>(
      { module: MODULE, task: 'echo', model: DIGITS },
      { workers: 2, callsPerWorker: 1 },
    );
    try {
      const other = pool.run('survivor', { delayMs: 50 });
      await expect(pool.run('dies', { exitThread: true })).rejects.toThrow(
        new ModelRunError('a worker thread of the echo pool exited (code 3)'),
      );
      expect((await other).text).toBe('survivor');
      expect((await pool.run('after')).text).toBe('after');
    } finally {
      await pool.dispose();
    }
  });

  it('runs tasks that take no list with run, and says map needs one', async () => {
    const pool = await TaskWorkerPool.create<PairFunction>({ module: MODULE, task: 'pair', model: DIGITS });
    try {
      expect(pool.workers).toBe(1);
      expect(await pool.run('a', 'b')).toBe('a+b');
      expect(() => (pool.map as unknown as (inputs: string[]) => unknown)(['a'])).toThrow(
        new InvalidArgumentError(
          'pair.map: pair does not take one input or a list of them; call pool.run once per input instead',
        ),
      );
    } finally {
      await pool.dispose();
    }
  });

  it('dispose waits for the running calls, refuses the queued ones and later calls', async () => {
    const pool = await TaskWorkerPool.create<EchoFunction>(
      { module: MODULE, task: 'echo', model: DIGITS },
      { callsPerWorker: 1 },
    );
    const running = pool.run('running', { delayMs: 50 });
    const queued = pool.run('queued').catch((error: unknown) => error);
    await pool.dispose();
    expect((await running).text).toBe('running');
    expect(await queued).toBeInstanceOf(DisposedError);
    await expect(pool.run('later')).rejects.toThrow(new DisposedError('the echo worker pool was disposed'));
  });

  it('throws the load error of the workers, typed', async () => {
    await expect(TaskWorkerPool.create({ module: MODULE, task: 'notATask', model: DIGITS })).rejects.toThrow(
      /exports no task helper 'notATask' \(its functions: .*imageClassification/,
    );
    await expect(
      TaskWorkerPool.create({
        module: MODULE,
        task: 'imageClassification',
        model: fixturePath('no-such-model'),
      }),
    ).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(
      TaskWorkerPool.create({ module: '@ortvision/no-such-package', task: 'x', model: DIGITS }),
    ).rejects.toThrow(
      new MissingDependencyError(
        `cannot find the task module '@ortvision/no-such-package' from ${process.cwd()}: install it, or give its URL (module: import.meta.resolve('@ortvision/no-such-package'))`,
      ),
    );
  });

  it('checks the spec and the options before starting a thread', async () => {
    const spec = { module: MODULE, task: 'echo', model: DIGITS };
    await expect(
      TaskWorkerPool.create({ ...spec, options: { signal: AbortSignal.timeout(10) } }),
    ).rejects.toThrow(/cannot carry signal \(it cannot be sent to a worker thread\)/);
    await expect(TaskWorkerPool.create(spec, { workers: 0 })).rejects.toThrow(
      new InvalidArgumentError('workers must be an integer >= 1, got 0'),
    );
    await expect(TaskWorkerPool.create({ ...spec, task: '' })).rejects.toThrow(
      /needs task as a non-empty string/,
    );
    await expect(TaskWorkerPool.create(spec, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      AbortedError,
    );
    const pool = await TaskWorkerPool.create(spec, { workers: 2 });
    expect(pool.threadsPerWorker).toBeGreaterThanOrEqual(1);
    await pool.dispose();
  });
});
