import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortedError,
  ConfigError,
  DisposedError,
  InputShapeError,
  InvalidArgumentError,
  ModelNotFoundError,
} from '../errors.js';
import { ImageProcessor } from '../image/image-processor.js';
import { systemProbes } from '../runtime/device.js';
import { Tensor } from '../tensor/tensor.js';
import { compareTensors, describeComparison } from '../testing/compare.js';
import { fixturePath, fixtureVariant } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';
import { readNpy } from '../testing/npy.js';
import { PretrainedConfig } from './config.js';
import { loadGraph } from './graph.js';
import { imageClassificationTask } from './image-tasks.js';
import { PreTrainedModel } from './pretrained-model.js';

class VitConfig extends PretrainedConfig {
  static override readonly modelTypes = ['vit'];
}

class ViTForImageClassification extends PreTrainedModel<VitConfig> {
  static override readonly configClass = VitConfig;
}

const dir = fixturePath('vit-cls');
const cudaUsable = () => systemProbes.cudaProvider().available && systemProbes.gpu(0).available;

async function expectMatchesPytorch(run: (feeds: Record<string, Tensor>) => Promise<Record<string, Tensor>>) {
  const pixel_values = await readNpy(fixturePath('vit-cls', 'reference/model-batch2-in.pixel_values.npy'));
  const expected = await readNpy(fixturePath('vit-cls', 'reference/model-batch2-out.logits.npy'));
  const { logits } = await run({ pixel_values });
  const comparison = compareTensors(logits!, expected, { atol: 1e-4, rtol: 1e-3 });
  expect(comparison.ok, describeComparison(comparison)).toBe(true);
}

describe('PreTrainedModel from a folder', () => {
  it("loads on 'cpu', runs forward and matches PyTorch", async () => {
    const model = await ViTForImageClassification.fromPretrained(dir);
    expect(model).toBeInstanceOf(ViTForImageClassification);
    expect(model.device).toBe('cpu');
    expect(model.config.labelOf(0)).toBe('cat');
    await expectMatchesPytorch((feeds) => model.forward(feeds));
    await model.dispose();
  });

  it("loads on 'auto' and reports the device it chose", async () => {
    const model = await ViTForImageClassification.fromPretrained(dir, { device: 'auto' });
    expect(model.device).toBe(cudaUsable() ? 'cuda' : 'cpu');
    await expectMatchesPytorch((feeds) => model.forward(feeds));
    await model.dispose();
  });

  it('checks inputs by name, dtype and rank before ONNX Runtime', async () => {
    const model = await ViTForImageClassification.fromPretrained(dir);
    await expect(model.forward({ pixels: Tensor.zeros('float32', [1, 3, 32, 32]) })).rejects.toThrow(
      'missing pixel_values; unknown pixels',
    );
    await expect(model.forward({ pixel_values: Tensor.zeros('float32', [3, 32, 32]) })).rejects.toThrow(
      InputShapeError,
    );
    await expect(model.forward({ pixel_values: Tensor.zeros('float64', [1, 3, 32, 32]) })).rejects.toThrow(
      "input 'pixel_values'",
    );
    await model.dispose();
  });

  it('serves 32 concurrent forward calls', async () => {
    const model = await ViTForImageClassification.fromPretrained(dir);
    const inputs = Array.from(
      { length: 32 },
      (_, i) => new Tensor('float32', new Float32Array(3 * 32 * 32).fill(i / 8 - 2), [1, 3, 32, 32]),
    );
    const results = await Promise.all(inputs.map((pixel_values) => model.forward({ pixel_values })));
    for (const index of [0, 13, 31]) {
      const alone = await model.forward({ pixel_values: inputs[index]! });
      expect(compareTensors(results[index]!.logits!, alone.logits!).ok).toBe(true);
    }
    await model.dispose();
  });

  it('refuses every call after dispose with DisposedError', async () => {
    const model = await ViTForImageClassification.fromPretrained(dir);
    await model.dispose();
    expect(model.disposed).toBe(true);
    await expect(model.forward({ pixel_values: Tensor.zeros('float32', [1, 3, 32, 32]) })).rejects.toThrow(
      DisposedError,
    );
    await expect(model.forward({})).rejects.toThrow(
      'this ViTForImageClassification was disposed; load it again with fromPretrained',
    );
    expect(() => model.graph('model')).toThrow(DisposedError);
    await model.dispose();
  });

  it('loads lazily on request', async () => {
    const model = await ViTForImageClassification.fromPretrained(dir, { loading: 'lazy' });
    await expectMatchesPytorch((feeds) => model.forward(feeds));
    await expect(model.runGraph('vision', {})).rejects.toThrow(
      "ViTForImageClassification has no graph 'vision' (it has: model)",
    );
    await model.dispose();
  });

  it('says which variants a folder has when the asked dtype is missing', async () => {
    const attempt = ViTForImageClassification.fromPretrained(dir, { dtype: 'q8' });
    await expect(attempt).rejects.toThrow(ModelNotFoundError);
    await expect(attempt).rejects.toThrow(
      'has none of onnx/model_quantized.onnx, model_quantized.onnx (it has: config.json, model.safetensors, onnx/model.onnx, preprocessor_config.json)',
    );
    await expect(ViTForImageClassification.fromPretrained(dir, { dtype: 'int4' as 'q8' })).rejects.toThrow(
      InvalidArgumentError,
    );
  });

  it('refuses a folder whose model_type the class does not handle', async () => {
    await expect(ViTForImageClassification.fromPretrained(fixturePath('owlv2'))).rejects.toThrow(ConfigError);
  });
});

describe('PreTrainedModel and loadGraph from a Hub id', () => {
  let server: HubServer;
  let cacheDir: string;
  beforeAll(async () => {
    server = await HubServer.start({ repoId: 'ortvision/vit-cls', folder: dir });
    cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-model-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('a download that stalls stops when the signal fires: AbortedError, not a raw DOMException', async () => {
    const stalled = await mkdtemp(join(tmpdir(), 'ortvision-model-stall-'));
    server.faults.set('onnx/model.onnx', { kind: 'stall', afterBytes: 100, times: 1 });
    try {
      const attempt = ViTForImageClassification.fromPretrained('ortvision/vit-cls', {
        endpoint: server.endpoint,
        cacheDir: stalled,
        retryDelayMs: 5,
        signal: AbortSignal.timeout(500),
      });
      await expect(attempt).rejects.toThrow(AbortedError);
      await expect(attempt).rejects.toMatchObject({ timedOut: true });
    } finally {
      server.faults.clear();
      await rm(stalled, { recursive: true, force: true });
    }
  });

  it('downloads, then loads offline from the cache', async () => {
    const progress: string[] = [];
    const options = {
      endpoint: server.endpoint,
      cacheDir,
      retryDelayMs: 5,
      onProgress: (p: { file: string }) => progress.push(p.file),
    };
    const model = await ViTForImageClassification.fromPretrained('ortvision/vit-cls', {
      ...options,
      device: 'auto',
    });
    expect(model.device).toBe(cudaUsable() ? 'cuda' : 'cpu');
    await expectMatchesPytorch((feeds) => model.forward(feeds));
    await model.dispose();
    expect(progress).toContain('onnx/model.onnx');
    const requests = server.requests.length;
    const offline = await ViTForImageClassification.fromPretrained('ortvision/vit-cls', {
      cacheDir,
      localFilesOnly: true,
    });
    await expectMatchesPytorch((feeds) => offline.forward(feeds));
    await offline.dispose();
    const graph = await loadGraph('ortvision/vit-cls', 'onnx/model.onnx', { cacheDir, localFilesOnly: true });
    await expectMatchesPytorch((feeds) => graph.run(feeds));
    await graph.dispose();
    expect(server.requests.length).toBe(requests);
  });

  it('one load asks the Hub once for the file list; graph variants and the processor need no more questions', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'ortvision-model-'));
    try {
      server.requests.length = 0;
      const options = { endpoint: server.endpoint, cacheDir: fresh, retryDelayMs: 5 };
      const classify = await imageClassificationTask(
        (id, o) => EitherViT.fromPretrained(id, o),
        (id, o) => ImageProcessor.fromPretrained(id, o),
      )('ortvision/vit-cls', options);
      const questions = server.requests.filter((r) => r.method === 'HEAD' || r.url.startsWith('/api/'));
      // The list, then one HEAD per file downloaded, at the listed commit: none for the absent extra_model.onnx.
      expect(questions.map((r) => `${r.method} ${r.url}`).sort()).toEqual(
        [
          'GET /api/models/ortvision/vit-cls/revision/main',
          `HEAD /ortvision/vit-cls/resolve/${server.commit}/config.json`,
          `HEAD /ortvision/vit-cls/resolve/${server.commit}/onnx/model.onnx`,
          `HEAD /ortvision/vit-cls/resolve/${server.commit}/preprocessor_config.json`,
        ].sort(),
      );
      await classify.dispose();
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});

class EitherViT extends ViTForImageClassification {
  static override readonly graphs = { model: 'model', extra: 'extra_model' };
  static override readonly graphGroups = [['extra'], ['model']];
}

describe('fromPretrained options and signal', () => {
  it('refuses misspelled options, naming the closest one, and null options', async () => {
    await expect(
      ViTForImageClassification.fromPretrained(dir, { devce: 'cpu' } as never),
    ).rejects.toThrowError(
      new InvalidArgumentError(
        "unknown option 'devce' for ViTForImageClassification.fromPretrained (did you mean 'device'?)",
      ),
    );
    await expect(ViTForImageClassification.fromPretrained(dir, { dType: 'fp16' } as never)).rejects.toThrow(
      "(did you mean 'dtype'?)",
    );
    await expect(ViTForImageClassification.fromPretrained(dir, null as never)).rejects.toThrowError(
      new InvalidArgumentError(
        'the options of ViTForImageClassification.fromPretrained must be an object (or left out), got null',
      ),
    );
    await expect(
      ViTForImageClassification.fromPretrained(dir, { loading: 'later' as never }),
    ).rejects.toThrow("loading must be 'eager' or 'lazy'");
    await expect(
      ViTForImageClassification.fromPretrained(dir, { sessionOptions: { intraOpNumThreads: -5 } }),
    ).rejects.toThrowError(
      new InvalidArgumentError('sessionOptions.intraOpNumThreads must be an integer >= 0, got -5'),
    );
    // configs take every loading option (one options object serves all loaders) but catch a misspelled one
    expect((await VitConfig.fromPretrained(dir, { device: 'cpu' } as never)).model_type).toBe('vit');
    await expect(VitConfig.fromPretrained(dir, { devcie: 'cpu' } as never)).rejects.toThrow(
      "unknown option 'devcie' for VitConfig.fromPretrained (did you mean 'device'?)",
    );
  });

  it('loadGraph checks its options and takes a signal too', async () => {
    await expect(loadGraph(dir, 'onnx/model.onnx', { devic: 'cpu' } as never)).rejects.toThrow(
      "unknown option 'devic' for loadGraph (did you mean 'device'?)",
    );
    await expect(loadGraph(dir, 'onnx/model.onnx', { signal: AbortSignal.abort() })).rejects.toThrow(
      AbortedError,
    );
  });

  it('an aborted signal: AbortedError before anything loads', async () => {
    await expect(
      ViTForImageClassification.fromPretrained(dir, { signal: AbortSignal.abort() }),
    ).rejects.toThrowError(
      new AbortedError(`ViTForImageClassification.fromPretrained(${JSON.stringify(dir)}) was aborted`),
    );
  });

  it('a signal that fires while the graphs load: AbortedError, and the model is not returned', async () => {
    const controller = new AbortController();
    const loading = ViTForImageClassification.fromPretrained(dir, { signal: controller.signal });
    setImmediate(() => controller.abort());
    await expect(loading).rejects.toThrow(AbortedError);
  });

  it('the signal of fromPretrained does not reach graphs loaded later, on first use', async () => {
    const controller = new AbortController();
    const model = await ViTForImageClassification.fromPretrained(dir, {
      signal: controller.signal,
      loading: 'lazy',
    });
    controller.abort();
    const pixel_values = await readNpy(fixturePath('vit-cls', 'reference/model-batch2-in.pixel_values.npy'));
    expect((await model.forward({ pixel_values })).logits!.dims).toEqual([2, 5]);
    await model.dispose();
  });
});

describe('graphGroups: alternative sets of graphs', () => {
  class EitherModel extends PreTrainedModel {
    static override readonly configClass = VitConfig;
    static override readonly graphs = { model: 'model', extra: 'extra_model' };
    static override readonly graphGroups = [['model'], ['extra']];
  }
  class ExtraOnlyModel extends EitherModel {
    static override readonly graphGroups = [['extra']];
  }

  it('loads the graphs a folder has when one set is complete, and remembers which are absent', async () => {
    const model = await EitherModel.fromPretrained(fixturePath('vit-cls'));
    expect(await model.hasGraph('model')).toBe(true);
    expect(await model.hasGraph('extra')).toBe(false);
    await model.dispose();
  });

  it('loads only the first complete set eagerly; the other graphs load when first used', async () => {
    const folder = await fixtureVariant('vit-cls', await mkdtemp(join(tmpdir(), 'ortvision-groups-')), {
      'onnx/extra_model.onnx': 'from:vit-cls/onnx/model.onnx',
    });
    try {
      const model = await EitherModel.fromPretrained(folder);
      // Removing the second set's file after loading shows it was not loaded: the lazy check finds it absent.
      await rm(join(folder, 'onnx', 'extra_model.onnx'));
      expect(await model.hasGraph('model')).toBe(true);
      expect(await model.hasGraph('extra')).toBe(false);
      await model.dispose();

      // With the first set's graph gone, the second set is the one loaded eagerly.
      await cp(join(folder, 'onnx', 'model.onnx'), join(folder, 'onnx', 'extra_model.onnx'));
      await rm(join(folder, 'onnx', 'model.onnx'));
      const fallback = await EitherModel.fromPretrained(folder);
      await rm(join(folder, 'onnx', 'extra_model.onnx'));
      expect(await fallback.hasGraph('extra')).toBe(true);
      expect(await fallback.hasGraph('model')).toBe(false);
      await fallback.dispose();
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('names the sets it needs and what it found when none is complete', async () => {
    await expect(ExtraOnlyModel.fromPretrained(fixturePath('vit-cls'))).rejects.toThrowError(
      new ModelNotFoundError(
        `${fixturePath('vit-cls')} lacks the ONNX graphs ExtraOnlyModel needs: onnx/extra_model.onnx (found: onnx/model.onnx)`,
      ),
    );
  });
});
