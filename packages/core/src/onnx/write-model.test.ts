import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError, InvalidArgumentError } from '../errors.js';
import { ModelSession } from '../runtime/session.js';
import { Tensor } from '../tensor/tensor.js';
import { readOnnxModel } from '../testing/onnx-reader.js';
import { GraphBuilder, type OnnxGraph } from './graph.js';
import { type WriteProgress, writeOnnxModel } from './write-model.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-write-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const IN = 512;
const OUT = 600; // a [512, 600] float32 weight is 1.2 MB: past the 1 MiB at which tensors are page-aligned
const weight = Float32Array.from({ length: IN * OUT }, (_, i) => Math.sin(i) / 8);
const bias = Float32Array.from({ length: OUT }, (_, i) => i / 1000);

/** y = relu(x·W + b) over [batch, 512], with a small shape constant reshaping the result to [batch, 6, 100]. */
function linearGraph(produceWeight: () => Float32Array = () => weight): OnnxGraph {
  const g = new GraphBuilder('linear');
  const x = g.input('x', 'float32', ['batch', IN]);
  const w = g.initializer('dense.weight', 'float32', [IN, OUT], produceWeight);
  const b = g.initializer('dense.bias', 'float32', [OUT], () => bias);
  const shape = g.constant('shape', { dtype: 'int64', dims: [3], data: BigInt64Array.of(0n, 6n, 100n) });
  const [product] = g.node('', 'MatMul', [x, w], {}, 'dense/MatMul');
  const [sum] = g.node('', 'Add', [product, b], {}, 'dense/Add');
  const [relu] = g.node('', 'Relu', [sum], {}, 'relu');
  const [y] = g.node('', 'Reshape', [relu, shape], {}, 'reshape');
  g.output(y!, 'y', 'float32', ['batch', 6, 100]);
  g.setMetadata('ortvision.builder', 'test');
  return g.build();
}

function expectedOutput(x: Float32Array, batch: number): Float32Array {
  const y = new Float32Array(batch * OUT);
  for (let n = 0; n < batch; n++) {
    for (let o = 0; o < OUT; o++) {
      let sum = 0;
      for (let i = 0; i < IN; i++) sum += x[n * IN + i]! * weight[i * OUT + o]!;
      y[n * OUT + o] = Math.max(0, sum + bias[o]!);
    }
  }
  return y;
}

async function run(path: string, x: Float32Array, batch: number): Promise<Float32Array> {
  const session = await ModelSession.create(path);
  try {
    const { y } = await session.run({ x: new Tensor('float32', x, [batch, IN]) });
    expect(y!.dims).toEqual([batch, 6, 100]);
    return y!.data as Float32Array;
  } finally {
    await session.dispose();
  }
}

describe('writeOnnxModel', () => {
  it.each(['external', 'inline'] as const)(
    'writes a graph ONNX Runtime runs (%s weights)',
    async (weights) => {
      const written = await writeOnnxModel(linearGraph(), join(dir, 'model.onnx'), { weights });
      const x = Float32Array.from({ length: 2 * IN }, (_, i) => Math.cos(i));
      const y = await run(written.path, x, 2);
      const expected = expectedOutput(x, 2);
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - expected[i]!)).toBeLessThan(1e-4);
      const files = (await readdir(dir)).sort();
      expect(files).toEqual(weights === 'external' ? ['model.onnx', 'model.onnx_data'] : ['model.onnx']);
    },
  );

  it('puts tensors of 1 KiB and more in model.onnx_data, page-aligning those of 1 MiB and more', async () => {
    const written = await writeOnnxModel(linearGraph(), join(dir, 'model.onnx'));
    expect(written.dataPath).toBe(join(dir, 'model.onnx_data'));
    const model = await readOnnxModel(written.path);
    const byName = Object.fromEntries(model.initializers.map((t) => [t.name, t]));
    expect(byName['dense.weight']!.external).toEqual({
      location: 'model.onnx_data',
      offset: 0,
      length: IN * OUT * 4,
    });
    // The bias follows the weight, 16-byte aligned; the 24-byte shape stays in the graph file.
    expect(byName['dense.bias']!.external).toEqual({
      location: 'model.onnx_data',
      offset: Math.ceil((IN * OUT * 4) / 16) * 16,
      length: OUT * 4,
    });
    expect(byName.shape!.external).toBeUndefined();
    expect([...(await model.readInitializer('dense.weight'))]).toEqual([...weight]);
    expect([...(await model.readInitializer('dense.bias'))]).toEqual([...bias]);
    expect([...(await model.readInitializer('shape'))]).toEqual([0n, 6n, 100n]);
    expect(model).toMatchObject({
      irVersion: 8,
      producer: 'ortvision',
      opsets: { '': 17 },
      metadata: { 'ortvision.builder': 'test' },
      inputs: [{ name: 'x', dtype: 'float32', dims: ['batch', IN] }],
      outputs: [{ name: 'y', dtype: 'float32', dims: ['batch', 6, 100] }],
    });
    expect(model.nodes.map((n) => n.name)).toEqual(['dense/MatMul', 'dense/Add', 'relu', 'reshape']);
  });

  it('page-aligns a large tensor that follows a small one', async () => {
    const g = new GraphBuilder('aligned');
    const x = g.input('x', 'float32', [OUT]);
    const b = g.initializer('small', 'float32', [OUT], () => bias);
    const w = g.initializer('large', 'float32', [IN, OUT], () => weight);
    const [sum] = g.node('', 'Add', [x, b], {}, 'add');
    g.output(g.node('', 'Add', [sum, w], {}, 'add_large')[0]!, 'y', 'float32', [IN, OUT]);
    const { path } = await writeOnnxModel(g.build(), join(dir, 'model.onnx'));
    const large = (await readOnnxModel(path)).initializers.find((t) => t.name === 'large')!;
    expect(large.external!.offset).toBe(65_536);
  });

  it('writes the same bytes for the same graph, in either layout', async () => {
    for (const weights of ['external', 'inline'] as const) {
      // Same file names in two folders: the graph file names its data file.
      await Promise.all(['a', 'b'].map((d) => mkdir(join(dir, weights, d), { recursive: true })));
      const first = await writeOnnxModel(linearGraph(), join(dir, weights, 'a', 'model.onnx'), { weights });
      const second = await writeOnnxModel(linearGraph(), join(dir, weights, 'b', 'model.onnx'), { weights });
      expect((await readFile(second.path)).equals(await readFile(first.path))).toBe(true);
      if (weights === 'external') {
        expect((await readFile(second.dataPath!)).equals(await readFile(first.dataPath!))).toBe(true);
      }
    }
  });

  it('leaves no file behind when producing a weight fails, and keeps an older complete model', async () => {
    const path = join(dir, 'model.onnx');
    await writeFile(path, 'the previous model');
    const failing = linearGraph(() => {
      throw new Error('disk on fire');
    });
    await expect(writeOnnxModel(failing, path)).rejects.toThrowError('disk on fire');
    await expect(writeOnnxModel(failing, path, { weights: 'inline' })).rejects.toThrowError('disk on fire');
    expect(await readdir(dir)).toEqual(['model.onnx']);
    expect(await readFile(path, 'utf8')).toBe('the previous model');
  });

  it('refuses weights of the wrong type or size, naming the initializer', async () => {
    await expect(
      writeOnnxModel(
        linearGraph(() => new Float32Array(3)),
        join(dir, 'model.onnx'),
      ),
    ).rejects.toThrowError(
      new InvalidArgumentError(
        `initializer 'dense.weight' has 3 elements, its shape [${IN}, ${OUT}] needs ${IN * OUT}`,
      ),
    );
    await expect(
      writeOnnxModel(
        linearGraph(() => new Float64Array(IN * OUT) as never),
        join(dir, 'model.onnx'),
      ),
    ).rejects.toThrowError("initializer 'dense.weight' (float32) needs a Float32Array, got Float64Array");
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses inline weights past protobuf’s 2 GiB before reading any weight', async () => {
    const g = new GraphBuilder('huge');
    const x = g.input('x', 'float32', [1]);
    const w = g.initializer('huge', 'float32', [2 ** 29, 2], () => {
      throw new Error('must not be read');
    });
    g.output(g.node('', 'Add', [x, w], {}, 'add')[0]!, 'y', 'float32', [2 ** 29, 2]);
    await expect(
      writeOnnxModel(g.build(), join(dir, 'model.onnx'), { weights: 'inline' }),
    ).rejects.toThrowError(
      /graph 'huge' needs \d+ bytes inline, past protobuf's 2 GiB limit: write its weights as external data/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses an unknown weights layout', async () => {
    await expect(
      writeOnnxModel(linearGraph(), join(dir, 'model.onnx'), { weights: 'auto' as never }),
    ).rejects.toThrowError(`weights: "auto" is not 'external' or 'inline'`);
  });

  it.each(['external', 'inline'] as const)(
    'reports each initializer written, in bytes and count (%s weights)',
    async (weights) => {
      const events: WriteProgress[] = [];
      await writeOnnxModel(linearGraph(), join(dir, 'model.onnx'), {
        weights,
        onProgress: (p) => events.push(p),
      });
      const total = IN * OUT * 4 + OUT * 4 + 3 * 8;
      expect(events).toEqual([
        { weights: 1, weightCount: 3, bytes: IN * OUT * 4, totalBytes: total },
        { weights: 2, weightCount: 3, bytes: IN * OUT * 4 + OUT * 4, totalBytes: total },
        { weights: 3, weightCount: 3, bytes: total, totalBytes: total },
      ]);
    },
  );

  it('stops between weights when its signal fires, leaving nothing behind', async () => {
    const controller = new AbortController();
    let produced = 0;
    const graph = linearGraph(() => {
      produced += 1;
      return weight;
    });
    const path = join(dir, 'model.onnx');
    const writing = writeOnnxModel(graph, path, {
      signal: controller.signal,
      onProgress: ({ weights }) => {
        if (weights === 1) controller.abort();
      },
    });
    await expect(writing).rejects.toThrowError(new AbortedError(`writing ${path} was aborted`));
    // The weight was produced once; the bias and shape after it never were.
    expect(produced).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });
});
