import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';
import { resolveFirstModelFile, resolveModelFiles } from './resolve.js';

describe('resolveModelFiles on a local folder', () => {
  const dir = fixturePath('vit-cls');

  it('uses the folder as is', async () => {
    const resolved = await resolveModelFiles(dir, ['config.json', 'onnx/model.onnx']);
    expect(resolved.source).toBe('local');
    expect(resolved.files).toEqual({
      'config.json': join(dir, 'config.json'),
      'onnx/model.onnx': join(dir, 'onnx', 'model.onnx'),
    });
  });

  it('gives undefined for a missing optional file and lists the folder for a missing required one', async () => {
    const { files } = await resolveModelFiles(dir, [{ path: 'tokenizer.json', optional: true }]);
    expect(files).toEqual({ 'tokenizer.json': undefined });
    const attempt = resolveModelFiles(dir, ['onnx/model_fp16.onnx']);
    await expect(attempt).rejects.toThrow(ModelNotFoundError);
    await expect(attempt).rejects.toThrow(
      `onnx/model_fp16.onnx not found in the model folder ${dir} (it has: config.json, model.safetensors, onnx/model.onnx, preprocessor_config.json)`,
    );
  });

  it('finds the first existing candidate', async () => {
    expect(await resolveFirstModelFile(dir, ['model.onnx', 'onnx/model.onnx'])).toBe(
      join(dir, 'onnx', 'model.onnx'),
    );
    await expect(
      resolveFirstModelFile(dir, ['onnx/model_quantized.onnx', 'model_quantized.onnx']),
    ).rejects.toThrow(
      'has none of onnx/model_quantized.onnx, model_quantized.onnx (it has: config.json, model.safetensors, onnx/model.onnx',
    );
  });

  it('says when a path is neither a folder nor a Hub id', async () => {
    await expect(resolveModelFiles('./no/such/folder', ['config.json'])).rejects.toThrow(
      './no/such/folder is neither an existing folder nor a Hub model id',
    );
    await expect(resolveModelFiles('', ['config.json'])).rejects.toThrow(InvalidArgumentError);
  });
});

describe('resolveModelFiles on a Hub id', () => {
  let server: HubServer;
  let cacheDir: string;
  beforeAll(async () => {
    server = await HubServer.start({ repoId: 'ortvision/vit-cls', folder: fixturePath('vit-cls') });
    cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-resolve-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it('downloads required and optional files through the cache', async () => {
    const options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5 };
    const resolved = await resolveModelFiles(
      'ortvision/vit-cls',
      ['config.json', { path: 'tokenizer.json', optional: true }],
      options,
    );
    expect(resolved.source).toBe('hub');
    expect(resolved.files['config.json']).toBe(
      join(cacheDir, 'models--ortvision--vit-cls', 'snapshots', server.commit, 'config.json'),
    );
    expect(resolved.files['tokenizer.json']).toBeUndefined();
    expect(
      await resolveFirstModelFile('ortvision/vit-cls', ['onnx/model.onnx', 'model.onnx'], options),
    ).toContain(join('snapshots', server.commit, 'onnx', 'model.onnx'));
  });
});
