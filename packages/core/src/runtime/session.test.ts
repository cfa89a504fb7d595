import { describe, expect, it } from 'vitest';
import { withAbortSignal } from '../abort.js';
import {
  AbortedError,
  DeviceUnavailableError,
  DisposedError,
  InputShapeError,
  InvalidArgumentError,
  ModelNotFoundError,
  ModelRunError,
} from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { compareTensors, describeComparison } from '../testing/compare.js';
import { fixturePath } from '../testing/fixtures.js';
import { readNpy } from '../testing/npy.js';
import { systemProbes } from './device.js';
import { createSession, runFailure } from './session.js';

const vitGraph = () => fixturePath('vit-cls', 'onnx', 'model.onnx');
const pixels = (dims: number[], fill = 0.5) =>
  new Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill), dims);

describe('ModelSession', () => {
  it("runs vit-cls on 'cpu' and matches PyTorch", async () => {
    const session = await createSession(vitGraph(), { device: 'cpu' });
    try {
      expect(session.device).toBe('cpu');
      expect(session.inputs).toEqual([
        { name: 'pixel_values', dtype: 'float32', dims: ['batch_size', 3, 32, 32] },
      ]);
      const feeds = {
        pixel_values: await readNpy(fixturePath('vit-cls', 'reference/model-batch2-in.pixel_values.npy')),
      };
      const expected = await readNpy(fixturePath('vit-cls', 'reference/model-batch2-out.logits.npy'));
      const { logits } = await session.run(feeds);
      const comparison = compareTensors(logits!, expected, { atol: 1e-4, rtol: 1e-3 });
      expect(comparison.ok, describeComparison(comparison)).toBe(true);
    } finally {
      await session.dispose();
    }
  });

  it("runs on 'auto' and reports the device it chose", async () => {
    const session = await createSession(vitGraph(), { device: 'auto' });
    const usable = systemProbes.cudaProvider().available && systemProbes.gpu(0).available;
    expect(session.device).toBe(usable ? 'cuda' : 'cpu');
    const { logits } = await session.run({ pixel_values: pixels([1, 3, 32, 32]) });
    expect(logits!.dims).toEqual([1, 5]);
    await session.dispose();
  });

  it("throws DeviceUnavailableError for 'cuda' when CUDA is missing", async () => {
    const usable = systemProbes.cudaProvider().available && systemProbes.gpu(0).available;
    if (usable) {
      const session = await createSession(vitGraph(), { device: 'cuda' });
      expect(session.device).toBe('cuda');
      await session.dispose();
    } else {
      await expect(createSession(vitGraph(), { device: 'cuda' })).rejects.toThrow(DeviceUnavailableError);
    }
  });

  it('checks names, dtypes, ranks and fixed dimensions before ONNX Runtime', async () => {
    const session = await createSession(vitGraph());
    try {
      await expect(session.run({})).rejects.toThrow(InputShapeError);
      await expect(session.run({})).rejects.toThrow('missing pixel_values');
      await expect(session.run({ pixel_values: pixels([1, 3, 32, 32]), mask: pixels([1]) })).rejects.toThrow(
        'unknown mask',
      );
      const ints = new Tensor('int64', new BigInt64Array(3 * 32 * 32), [1, 3, 32, 32]);
      await expect(session.run({ pixel_values: ints })).rejects.toThrow(
        `input 'pixel_values' of ${vitGraph()} is int64, expected float32 [batch_size, 3, 32, 32]`,
      );
      await expect(session.run({ pixel_values: pixels([3, 32, 32]) })).rejects.toThrow(
        'has shape [3, 32, 32] (rank 3), expected rank 4',
      );
      await expect(session.run({ pixel_values: pixels([1, 3, 32, 33]) })).rejects.toThrow(
        'axis 3 must be 32',
      );
      const extra = await session.run(
        { pixel_values: pixels([1, 3, 32, 32]), pixel_mask: pixels([1]) },
        { ignoreUnknownFeeds: true },
      );
      expect(extra.logits!.dims).toEqual([1, 5]);
    } finally {
      await session.dispose();
    }
  });

  it('serves 32 concurrent runs, each with its own result', async () => {
    const session = await createSession(vitGraph());
    try {
      const fills = Array.from({ length: 32 }, (_, i) => i / 31);
      const sequential = [];
      for (const fill of fills.slice(0, 4))
        sequential.push((await session.run({ pixel_values: pixels([1, 3, 32, 32], fill) })).logits!);
      const concurrent = await Promise.all(
        fills.map((fill) => session.run({ pixel_values: pixels([1, 3, 32, 32], fill) })),
      );
      sequential.forEach((logits, i) => {
        expect(compareTensors(concurrent[i]!.logits!, logits).ok).toBe(true);
      });
      expect(compareTensors(concurrent[0]!.logits!, concurrent[31]!.logits!).ok).toBe(false);
    } finally {
      await session.dispose();
    }
  });

  it('finishes runs in flight on dispose, then refuses with DisposedError', async () => {
    const session = await createSession(vitGraph());
    const running = Array.from({ length: 4 }, () => session.run({ pixel_values: pixels([1, 3, 32, 32]) }));
    await session.dispose();
    const results = await Promise.all(running);
    expect(results.every((r) => r.logits!.dims[1] === 5)).toBe(true);
    await expect(session.run({ pixel_values: pixels([1, 3, 32, 32]) })).rejects.toThrow(DisposedError);
    expect(() => session.inputNames).toThrow(`the session for ${vitGraph()} was disposed`);
    await session.dispose();
  });

  it('names a missing graph file', async () => {
    await expect(createSession('/nonexistent/model.onnx')).rejects.toThrow(ModelNotFoundError);
    await expect(createSession('/nonexistent/model.onnx')).rejects.toThrow(
      'ONNX graph not found: /nonexistent/model.onnx',
    );
  });
});

describe('ModelSession options, signals and failures', () => {
  it.each([
    [{ intraOpNumThreads: -5 }, 'sessionOptions.intraOpNumThreads must be an integer >= 0, got -5'],
    [{ interOpNumThreads: 1.5 }, 'sessionOptions.interOpNumThreads must be an integer >= 0, got 1.5'],
    [{ logSeverityLevel: 7 }, 'sessionOptions.logSeverityLevel must be an integer from 0 to 4, got 7'],
    [
      { graphOptimizationLevel: 'max' },
      "sessionOptions.graphOptimizationLevel must be one of 'disabled', 'basic', 'extended', 'layout', 'all', got 'max'",
    ],
    [{ enableCpuMemArena: 'no' }, "sessionOptions.enableCpuMemArena must be a boolean, got 'no'"],
    [
      { intraOpThreads: 2 },
      "unknown option 'intraOpThreads' for sessionOptions (did you mean 'intraOpNumThreads'?)",
    ],
    [{ executionProviders: ['cuda'] }, 'sessionOptions.executionProviders is decided by the device option'],
  ])(
    'sessionOptions %j: InvalidArgumentError naming the option, before native code',
    async (sessionOptions, message) => {
      const attempt = createSession(vitGraph(), { sessionOptions: sessionOptions as never });
      await expect(attempt).rejects.toThrow(InvalidArgumentError);
      await expect(createSession(vitGraph(), { sessionOptions: sessionOptions as never })).rejects.toThrow(
        message,
      );
    },
  );

  it('refuses unknown createSession and run options', async () => {
    await expect(createSession(vitGraph(), { devce: 'cpu' } as never)).rejects.toThrowError(
      new InvalidArgumentError("unknown option 'devce' for createSession (did you mean 'device'?)"),
    );
    const session = await createSession(vitGraph());
    try {
      await expect(
        session.run({ pixel_values: pixels([1, 3, 32, 32]) }, { signl: 1 } as never),
      ).rejects.toThrow("unknown option 'signl' for ModelSession.run (did you mean 'signal'?)");
    } finally {
      await session.dispose();
    }
  });

  it('an aborted signal stops a run before it starts; one that fires during the run drops its result', async () => {
    const session = await createSession(vitGraph());
    try {
      const feeds = { pixel_values: pixels([1, 3, 32, 32]) };
      const aborted = AbortSignal.abort();
      await expect(session.run(feeds, { signal: aborted })).rejects.toThrow(AbortedError);
      const controller = new AbortController();
      const running = session.run(feeds, { signal: controller.signal });
      controller.abort();
      await expect(running).rejects.toThrowError(new AbortedError(`running ${vitGraph()} was aborted`));
      // the signal of the enclosing task call applies without being passed
      await expect(withAbortSignal(aborted, () => session.run(feeds))).rejects.toThrow(AbortedError);
      expect((await session.run(feeds)).logits!.dims).toEqual([1, 5]);
    } finally {
      await session.dispose();
    }
  });

  it("a graph that fails on inputs that pass the declared shapes: InputShapeError with ONNX Runtime's reason", async () => {
    const session = await createSession(fixturePath('altclip', 'onnx', 'text_model.onnx'));
    try {
      const ids = new Tensor('int64', BigInt64Array.from([0n, 99999n]), [1, 2]);
      const mask = new Tensor('int64', BigInt64Array.from([1n, 1n]), [1, 2]);
      const attempt = session.run({ input_ids: ids, attention_mask: mask });
      await expect(attempt).rejects.toThrow(InputShapeError);
      await expect(session.run({ input_ids: ids, attention_mask: mask })).rejects.toThrow(
        /they do not fit the graph.*indices element out of data bounds, idx=99999/,
      );
    } finally {
      await session.dispose();
    }
  });

  it('classifies ONNX Runtime failures: inputs -> InputShapeError, anything else -> ModelRunError', () => {
    const shape = runFailure('g.onnx', 'cpu', new Error('Non-zero status code ... Invalid input shape: {2}'));
    expect(shape).toBeInstanceOf(InputShapeError);
    const memory = runFailure('g.onnx', 'cuda', new Error('Failed to allocate memory for requested buffer'));
    expect(memory).toBeInstanceOf(ModelRunError);
    expect(memory.message).toBe(
      'ONNX Runtime failed while running g.onnx on cuda (out of memory: try a smaller batch, or another device): Failed to allocate memory for requested buffer',
    );
    const other = runFailure('g.onnx', 'cpu', new Error('CUBLAS failure 13'));
    expect(other).toBeInstanceOf(ModelRunError);
    expect(other.message).toBe('ONNX Runtime failed while running g.onnx on cpu: CUBLAS failure 13');
  });
});
