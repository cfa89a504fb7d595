import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../checkpoint/safetensors-writer.js';
import { AbortedError, CheckpointError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { childArgs } from '../hub/__fixtures__/node-child.js';
import { Tensor } from '../tensor/tensor.js';
import { HubServer } from '../testing/hub-server.js';
import { PickleWriter, torchZipBytes } from '../testing/torch-checkpoint.js';
import { TinyModel } from './__fixtures__/tiny-model-class.js';
import { HIDDEN, TinyConfig, tinyForward, tinyWeights, writeTinyFolder } from './__fixtures__/tiny-model.js';
import { defaultGraphCacheDir } from './graph-cache.js';
import { loadGraph } from './graph.js';
import type { GraphBuildProgress, LoadProgress } from './model-graphs.js';
import { PreTrainedModel } from './pretrained-model.js';

// The load path of issue 18: where each graph comes from (graphSource), the build cache (keys, atomic entries, a
// second load that builds nothing), and bad checkpoints, on a model small enough to build in milliseconds.

/** The same model without builders: it runs exported graphs only. */
class ExportedTinyModel extends PreTrainedModel<TinyConfig> {
  static override readonly configClass = TinyConfig;
}

const buildChild = fileURLToPath(new URL('./__fixtures__/build-child.ts', import.meta.url));

let dir: string;
let graphCacheDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-model-graphs-'));
  graphCacheDir = join(dir, 'graph-cache');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const x = Float32Array.from({ length: 2 * HIDDEN }, (_, i) => Math.cos(i));

async function expectTinyOutputs(model: PreTrainedModel, weights = tinyWeights()): Promise<void> {
  const { y } = await model.forward({ x: new Tensor('float32', x, [2, HIDDEN]) });
  const expected = tinyForward(x, weights);
  expect(y!.dims).toEqual([2, HIDDEN]);
  const got = y!.data as Float32Array;
  for (let i = 0; i < expected.length; i++) expect(Math.abs(got[i]! - expected[i]!)).toBeLessThan(1e-5);
}

/** What the tiny model's build cache holds: complete entries and temporary build folders. */
function cacheState(): { entries: string[]; temporaries: string[] } {
  const classDir = join(graphCacheDir, 'TinyModel');
  const names = existsSync(classDir) ? readdirSync(classDir) : [];
  return {
    entries: names.filter((name) => !name.startsWith('.')).sort(),
    temporaries: names.filter((name) => name.endsWith('.incomplete')),
  };
}

/** Loads the tiny model, returning it with the build events it reported. */
async function load(
  folder: string,
  options: Parameters<typeof TinyModel.fromPretrained>[1] = {},
): Promise<{ model: TinyModel; builds: GraphBuildProgress[]; events: LoadProgress[] }> {
  const events: LoadProgress[] = [];
  const model = await TinyModel.fromPretrained(folder, {
    graphCacheDir,
    ...options,
    onProgress: (progress) => events.push(progress),
  });
  const builds = events.filter((e): e is GraphBuildProgress => 'kind' in e && e.kind === 'build');
  return { model, builds, events };
}

describe('a folder with a checkpoint and no onnx/ (graphSource auto)', () => {
  it.each(['safetensors', 'pytorch'] as const)(
    'builds the graph from %s, reporting each weight written, and runs it',
    async (format) => {
      const folder = await writeTinyFolder(join(dir, 'tiny'), { format });
      const { model, builds } = await load(folder);
      await expectTinyOutputs(model);
      await model.dispose();
      expect(builds.length).toBe(4);
      expect(builds.at(-1)).toEqual({
        kind: 'build',
        file: 'onnx/model.onnx',
        modelClass: 'TinyModel',
        graph: 'model',
        dtype: 'fp32',
        loaded: 2 * (HIDDEN * HIDDEN + HIDDEN) * 4,
        total: 2 * (HIDDEN * HIDDEN + HIDDEN) * 4,
        weights: 4,
        weightCount: 4,
      });
      const { entries, temporaries } = cacheState();
      expect(entries.length).toBe(1);
      expect(temporaries).toEqual([]);
      const entry = join(graphCacheDir, 'TinyModel', entries[0]!);
      expect((await readdir(entry)).sort()).toEqual(['build.json', 'model.onnx', 'model.onnx_data']);
      const key = JSON.parse(await readFile(join(entry, 'build.json'), 'utf8'));
      const file = format === 'pytorch' ? 'pytorch_model.bin' : 'model.safetensors';
      const sha = createHash('sha256')
        .update(await readFile(join(folder, file)))
        .digest('hex');
      expect(key).toEqual({
        modelClass: 'TinyModel',
        graph: 'model',
        dtype: 'fp32',
        builderVersion: 1,
        formatVersion: 1,
        config: { model_type: 'tiny', architectures: ['TinyModel'], hidden_size: HIDDEN },
        checkpoint: [{ file, sha }],
      });
    },
  );

  it('a second load builds nothing and writes nothing: the cached graph is used as it is', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    const first = await load(folder);
    await first.model.dispose();
    const [entry] = cacheState().entries;
    const entryDir = join(graphCacheDir, 'TinyModel', entry!);
    const before = await Promise.all(
      (await readdir(entryDir)).map(async (name) => [name, (await stat(join(entryDir, name))).mtimeMs]),
    );
    const second = await load(folder);
    await expectTinyOutputs(second.model);
    await second.model.dispose();
    expect(second.builds).toEqual([]);
    const after = await Promise.all(
      (await readdir(entryDir)).map(async (name) => [name, (await stat(join(entryDir, name))).mtimeMs]),
    );
    expect(after).toEqual(before);
    expect(cacheState().entries).toEqual([entry]);
  });

  it('remembers a local checkpoint’s sha256 by path, size and mtime instead of hashing it again', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    (await load(folder)).model.dispose();
    const memoDir = join(graphCacheDir, '.file-hashes');
    const [record] = await readdir(memoDir);
    const memoPath = join(memoDir, record!);
    const memo = JSON.parse(await readFile(memoPath, 'utf8'));
    const checkpoint = join(folder, 'model.safetensors');
    const sha = createHash('sha256')
      .update(await readFile(checkpoint))
      .digest('hex');
    expect(memo).toMatchObject({ path: checkpoint, sha256: sha });
    // A record that lies is believed while size and mtime match (the file is not read again): another key.
    await writeFile(memoPath, JSON.stringify({ ...memo, sha256: 'f'.repeat(64) }));
    const believed = await load(folder);
    await believed.model.dispose();
    expect(believed.builds.length).toBeGreaterThan(0);
    expect(cacheState().entries.length).toBe(2);
    // A new mtime makes it hash the file again: the first entry's key, nothing built.
    const later = new Date(Date.now() + 5000);
    await utimes(checkpoint, later, later);
    const rehashed = await load(folder);
    await rehashed.model.dispose();
    expect(rehashed.builds).toEqual([]);
    expect(JSON.parse(await readFile(memoPath, 'utf8')).sha256).toBe(sha);
  });

  it('keys entries by content, config, dtype: a copy of the folder reuses the build, any change builds anew', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    (await load(folder)).model.dispose();
    const copy = await writeTinyFolder(join(dir, 'copy'));
    const reused = await load(copy);
    await reused.model.dispose();
    expect(reused.builds).toEqual([]);
    expect(cacheState().entries.length).toBe(1);

    const other = await writeTinyFolder(join(dir, 'other'), { weights: tinyWeights(2) });
    const retrained = await load(other);
    await expectTinyOutputs(retrained.model, tinyWeights(2));
    await retrained.model.dispose();
    expect(retrained.builds.length).toBe(4);

    const q8 = await load(folder, { dtype: 'q8' });
    await q8.model.dispose();
    expect(q8.builds.at(-1)).toMatchObject({ file: 'onnx/model_quantized.onnx', dtype: 'q8' });

    const config = JSON.parse(await readFile(join(copy, 'config.json'), 'utf8'));
    await writeFile(join(copy, 'config.json'), JSON.stringify({ ...config, id2label: { 0: 'a' } }));
    const reconfigured = await load(copy);
    await reconfigured.model.dispose();
    expect(reconfigured.builds.length).toBe(4);
    expect(cacheState()).toEqual({ entries: expect.any(Array), temporaries: [] });
    expect(cacheState().entries.length).toBe(4);
  });

  it('builds from a sharded checkpoint, its index and every shard in the key', async () => {
    const folder = join(dir, 'sharded');
    await writeTinyFolder(folder);
    await rm(join(folder, 'model.safetensors'));
    const weights = tinyWeights();
    const [first, second] = [
      ['dense.0.weight', 'dense.0.bias'],
      ['dense.1.weight', 'dense.1.bias'],
    ].map((keys) => Object.fromEntries(keys.map((key) => [key, weights[key]!])));
    await writeSafetensors(join(folder, 'model-00001-of-00002.safetensors'), first!);
    await writeSafetensors(join(folder, 'model-00002-of-00002.safetensors'), second!);
    const weightMap = Object.fromEntries([
      ...Object.keys(first!).map((key) => [key, 'model-00001-of-00002.safetensors']),
      ...Object.keys(second!).map((key) => [key, 'model-00002-of-00002.safetensors']),
    ]);
    await writeFile(join(folder, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    const { model } = await load(folder);
    await expectTinyOutputs(model);
    await model.dispose();
    const [entry] = cacheState().entries;
    const key = JSON.parse(await readFile(join(graphCacheDir, 'TinyModel', entry!, 'build.json'), 'utf8'));
    expect(key.checkpoint.map((c: { file: string }) => c.file)).toEqual([
      'model.safetensors.index.json',
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
  });

  it('defaults the cache to $ORTVISION_CACHE/graphs, else ~/.cache/ortvision/graphs', () => {
    expect(defaultGraphCacheDir({ ORTVISION_CACHE: '/data/ov' })).toBe(join('/data/ov', 'graphs'));
    expect(defaultGraphCacheDir({ XDG_CACHE_HOME: '/xdg' })).toBe(join('/xdg', 'ortvision', 'graphs'));
  });
});

describe('graphSource: where each graph comes from, decided at load', () => {
  /** A folder with an exported graph (a copy of a built one, under onnx/) beside the checkpoint. */
  async function exportedFolder(): Promise<string> {
    const folder = await writeTinyFolder(join(dir, 'exported'));
    (await load(folder)).model.dispose();
    const entry = join(graphCacheDir, 'TinyModel', cacheState().entries[0]!);
    await mkdir(join(folder, 'onnx'));
    for (const name of ['model.onnx', 'model.onnx_data']) {
      await copyFile(join(entry, name), join(folder, 'onnx', name));
    }
    await rm(graphCacheDir, { recursive: true });
    return folder;
  }

  it("'auto' takes onnx/ when it has the dtype, and builds the dtype it lacks", async () => {
    const folder = await exportedFolder();
    const fp32 = await load(folder);
    await expectTinyOutputs(fp32.model);
    await fp32.model.dispose();
    expect(fp32.builds).toEqual([]);
    expect(cacheState().entries).toEqual([]);
    const q8 = await load(folder, { dtype: 'q8' });
    await q8.model.dispose();
    // q8: each linear's int8 weight, its scales and its bias.
    expect(q8.builds.at(-1)).toMatchObject({ file: 'onnx/model_quantized.onnx', weights: 6, weightCount: 6 });
  });

  it("'checkpoint' ignores onnx/; 'onnx' never builds", async () => {
    const folder = await exportedFolder();
    const built = await load(folder, { graphSource: 'checkpoint' });
    await expectTinyOutputs(built.model);
    await built.model.dispose();
    expect(built.builds.length).toBe(4);
    await expect(load(folder, { graphSource: 'onnx', dtype: 'q8' })).rejects.toThrowError(
      new ModelNotFoundError(
        `${folder} has none of onnx/model_quantized.onnx, model_quantized.onnx (it has: config.json, model.safetensors, onnx/model.onnx, onnx/model.onnx_data); it has a checkpoint: graphSource 'auto' or 'checkpoint' builds onnx/model_quantized.onnx from it`,
      ),
    );
  });

  it('says what the folder has and what would do when a graph can come from nowhere', async () => {
    const folder = join(dir, 'config-only');
    await writeTinyFolder(folder);
    await rm(join(folder, 'model.safetensors'));
    await expect(load(folder, { dtype: 'q8' })).rejects.toThrowError(
      new ModelNotFoundError(
        `${folder} has neither onnx/model_quantized.onnx nor model_quantized.onnx nor a checkpoint (model.safetensors or pytorch_model.bin, sharded or not) to build it from (it has: config.json)`,
      ),
    );
    await expect(load(folder, { graphSource: 'checkpoint' })).rejects.toThrowError(
      `${folder} has no checkpoint (model.safetensors or pytorch_model.bin, sharded or not) to build onnx/model.onnx from (it has: config.json)`,
    );
    const withCheckpoint = await writeTinyFolder(join(dir, 'tiny'));
    await expect(
      ExportedTinyModel.fromPretrained(withCheckpoint, { graphSource: 'checkpoint', graphCacheDir }),
    ).rejects.toThrowError(
      "ExportedTinyModel cannot build its graph 'model' (onnx/model.onnx) from a checkpoint: it runs exported ONNX graphs only (graphSource 'auto' or 'onnx' takes them from onnx/)",
    );
    await expect(ExportedTinyModel.fromPretrained(withCheckpoint, { graphCacheDir })).rejects.toThrowError(
      `${withCheckpoint} has none of onnx/model.onnx, model.onnx (it has: config.json, model.safetensors)`,
    );
  });

  it('checks graphSource and graphCacheDir like every loading option', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    await expect(TinyModel.fromPretrained(folder, { graphSource: 'hub' as never })).rejects.toThrowError(
      new InvalidArgumentError(
        `TinyModel.fromPretrained: graphSource must be 'auto', 'onnx' or 'checkpoint', got 'hub'`,
      ),
    );
    await expect(TinyModel.fromPretrained(folder, { graphCacheDir: 3 as never })).rejects.toThrowError(
      new InvalidArgumentError('TinyModel.fromPretrained: graphCacheDir must be a folder path, got 3'),
    );
    await expect(TinyModel.fromPretrained(folder, { graph_source: 'onnx' } as never)).rejects.toThrowError(
      "unknown option 'graph_source' for TinyModel.fromPretrained (did you mean 'graphSource'?)",
    );
  });
});

describe('a bad checkpoint gives a typed error naming file and key, and leaves nothing in the cache', () => {
  /** The tiny folder with its checkpoint replaced by `bytes`, or written from `weights`. */
  async function badFolder(
    name: string,
    checkpoint: { weights: Record<string, Tensor> } | { file: string; bytes: Uint8Array },
  ): Promise<string> {
    const folder = join(dir, name);
    if ('weights' in checkpoint) return writeTinyFolder(folder, { weights: checkpoint.weights });
    await writeTinyFolder(folder);
    await rm(join(folder, 'model.safetensors'));
    await writeFile(join(folder, checkpoint.file), checkpoint.bytes);
    return folder;
  }

  const { 'dense.1.bias': _dropped, ...withoutBias } = tinyWeights();

  function safetensorsBytes(header: Record<string, unknown>, data: Uint8Array): Buffer {
    const json = Buffer.from(JSON.stringify(header));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([prefix, json, data]);
  }

  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'a missing key',
      () => badFolder('missing', { weights: withoutBias }),
      /model\.safetensors.*'dense\.1\.bias'/,
    ],
    [
      'an unexpected key',
      () =>
        badFolder('unexpected', {
          weights: { ...tinyWeights(), 'dense.2.weight': new Tensor('float32', new Float32Array(4), [2, 2]) },
        }),
      /model\.safetensors holds 1 weight that TinyModel does not use: 'dense\.2\.weight'/,
    ],
    [
      'a wrong shape',
      () =>
        badFolder('shape', {
          weights: { ...tinyWeights(), 'dense.0.bias': new Tensor('float32', new Float32Array(3), [3]) },
        }),
      /model\.safetensors.*'dense\.0\.bias'.*\[3\].*\[16\]/,
    ],
    [
      'an unknown dtype',
      async () =>
        badFolder('dtype', {
          file: 'model.safetensors',
          bytes: safetensorsBytes(
            { 'dense.0.bias': { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } },
            new Uint8Array(1),
          ),
        }),
      /model\.safetensors: 'dense\.0\.bias' has dtype "F8_E4M3", which ortvision cannot read/,
    ],
    [
      'a truncated file',
      async () => {
        const folder = await writeTinyFolder(join(dir, 'truncated'));
        const bytes = await readFile(join(folder, 'model.safetensors'));
        await writeFile(join(folder, 'model.safetensors'), bytes.subarray(0, bytes.length - 10));
        return folder;
      },
      /model\.safetensors.*'dense\.1\.bias' ends at byte \d+ but the file has \d+: it is truncated/,
    ],
    [
      "a pickle naming a global outside torch's format",
      async () =>
        badFolder('evil', {
          file: 'pytorch_model.bin',
          bytes: await torchZipBytes({}, [], {
            pickle: new PickleWriter()
              .proto()
              .global('posix', 'system')
              .str('touch pwned')
              .tuple(1)
              .reduce()
              .stop()
              .bytes(),
          }),
        }),
      /pytorch_model\.bin: archive\/data\.pkl: the pickle names the global 'posix\.system'/,
    ],
    [
      'a sharded index naming a missing shard',
      async () =>
        badFolder('shard', {
          file: 'model.safetensors.index.json',
          bytes: Buffer.from(
            JSON.stringify({ weight_map: { 'dense.0.weight': 'model-00001-of-00002.safetensors' } }),
          ),
        }),
      /model\.safetensors\.index\.json of .* names the shard model-00001-of-00002\.safetensors, which the folder does not have/,
    ],
  ];

  it.each(cases)('%s', async (_name, make, message) => {
    const folder = await make();
    const loading = load(folder);
    await expect(loading).rejects.toThrow(CheckpointError);
    await expect(loading).rejects.toThrow(message);
    expect(cacheState()).toEqual({ entries: [], temporaries: [] });
  });

  it('an abort between weights stops the build: AbortedError, no entry; the next load builds it', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    const controller = new AbortController();
    const loading = TinyModel.fromPretrained(folder, {
      graphCacheDir,
      signal: controller.signal,
      onProgress: (progress) => {
        if ('kind' in progress && progress.weights === 1) controller.abort();
      },
    });
    await expect(loading).rejects.toThrowError(
      new AbortedError(
        `TinyModel.fromPretrained(${JSON.stringify(folder)}): loading graph 'model' was aborted`,
      ),
    );
    expect(cacheState()).toEqual({ entries: [], temporaries: [] });
    const { model, builds } = await load(folder);
    await expectTinyOutputs(model);
    await model.dispose();
    expect(builds.length).toBe(4);
  });
});

describe('the build cache across processes', () => {
  /** Starts the build child; resolves `building` when it paused mid-build, `done` with its output. */
  async function startBuild(folder: string, goFile: string) {
    const child = spawn(process.execPath, [...(await childArgs(buildChild)), folder, graphCacheDir, goFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let paused: () => void;
    const building = new Promise<void>((resolve) => {
      paused = resolve;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('building\n')) paused();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>(
      (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout: stdout + stderr })),
    );
    return { child, building: Promise.race([building, done.then(() => {})]), done };
  }

  it('a build killed (SIGKILL) mid-write leaves nothing that looks complete; the next load builds it', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    const build = await startBuild(folder, join(dir, 'never'));
    await build.building;
    build.child.kill('SIGKILL');
    expect((await build.done).signal).toBe('SIGKILL');
    const state = cacheState();
    expect(state.entries).toEqual([]);
    expect(state.temporaries.length).toBe(1);
    const { model, builds } = await load(folder);
    await expectTinyOutputs(model);
    await model.dispose();
    expect(builds.length).toBe(4);
    // The dead process's temporary folder was removed by the build that replaced it.
    expect(cacheState()).toEqual({ entries: [expect.any(String)], temporaries: [] });
  }, 60_000);

  it('processes building one graph at once all succeed with the one entry the first rename made', async () => {
    const folder = await writeTinyFolder(join(dir, 'tiny'));
    const go = join(dir, 'go');
    const builds = await Promise.all([1, 2, 3].map(() => startBuild(folder, go)));
    await Promise.all(builds.map((build) => build.building));
    expect(cacheState().temporaries.length).toBe(3);
    await writeFile(go, '');
    const results = await Promise.all(builds.map((build) => build.done));
    for (const result of results) expect(result.code, result.stdout).toBe(0);
    const paths = results.map((result) => JSON.parse(result.stdout.trim().split('\n').at(-1)!).path);
    const { entries, temporaries } = cacheState();
    expect(entries.length).toBe(1);
    expect(temporaries).toEqual([]);
    expect(new Set(paths)).toEqual(new Set([join(graphCacheDir, 'TinyModel', entries[0]!, 'model.onnx')]));
    const { model, builds: rebuilt } = await load(folder);
    await expectTinyOutputs(model);
    await model.dispose();
    expect(rebuilt).toEqual([]);
  }, 60_000);
});

describe('from a Hub repository', () => {
  let server: HubServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const downloads = (events: LoadProgress[]) =>
    [...new Set(events.filter((e) => !('kind' in e)).map((e) => e.file))].sort();

  it('downloads only the checkpoint to build, then loads offline without building or asking', async () => {
    const folder = await writeTinyFolder(join(dir, 'repo'), { format: 'pytorch' });
    server = await HubServer.start({ repoId: 'ortvision-test/tiny', folder });
    const cacheDir = join(dir, 'hub-cache');
    const first = await load('ortvision-test/tiny', { endpoint: server.endpoint, cacheDir });
    await expectTinyOutputs(first.model);
    await first.model.dispose();
    expect(downloads(first.events)).toEqual(['config.json', 'pytorch_model.bin']);
    expect(first.builds.length).toBe(4);
    const [entry] = cacheState().entries;
    const key = JSON.parse(await readFile(join(graphCacheDir, 'TinyModel', entry!, 'build.json'), 'utf8'));
    // The Hub's etag of an LFS file is the sha256 of its content.
    expect(key.checkpoint).toEqual([{ file: 'pytorch_model.bin', sha: server.sha256('pytorch_model.bin') }]);

    const requests = server.requests.length;
    const offline = await load('ortvision-test/tiny', { cacheDir, localFilesOnly: true });
    await expectTinyOutputs(offline.model);
    await offline.model.dispose();
    expect(offline.events).toEqual([]);
    expect(server.requests.length).toBe(requests);

    // A Hub cache without the checkpoint: one HEAD names it (its etag), the cached build needs no download.
    const fresh = await load('ortvision-test/tiny', {
      endpoint: server.endpoint,
      cacheDir: join(dir, 'cold'),
    });
    await fresh.model.dispose();
    expect(downloads(fresh.events)).toEqual(['config.json']);
    expect(fresh.builds).toEqual([]);
    const late = server.requests.slice(requests);
    expect(late.filter((r) => r.url.includes('pytorch_model.bin')).map((r) => r.method)).toEqual(['HEAD']);
  });

  it('downloads an exported graph with its external data, and not the checkpoint beside it', async () => {
    const folder = await writeTinyFolder(join(dir, 'repo'));
    (await load(folder)).model.dispose();
    const entry = join(graphCacheDir, 'TinyModel', cacheState().entries[0]!);
    await mkdir(join(folder, 'onnx'));
    for (const name of ['model.onnx', 'model.onnx_data'])
      await copyFile(join(entry, name), join(folder, 'onnx', name));
    server = await HubServer.start({ repoId: 'ortvision-test/tiny', folder });
    const { model, events, builds } = await load('ortvision-test/tiny', {
      endpoint: server.endpoint,
      cacheDir: join(dir, 'hub-cache'),
    });
    await expectTinyOutputs(model);
    await model.dispose();
    expect(builds).toEqual([]);
    expect(downloads(events)).toEqual(['config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']);
    // The generic loader by file takes the data file along too.
    const session = await loadGraph('ortvision-test/tiny', 'onnx/model.onnx', {
      endpoint: server.endpoint,
      cacheDir: join(dir, 'another-hub-cache'),
    });
    const { y } = await session.run({ x: new Tensor('float32', x.subarray(0, HIDDEN), [1, HIDDEN]) });
    await session.dispose();
    expect(y!.dims).toEqual([1, HIDDEN]);
  });
});
