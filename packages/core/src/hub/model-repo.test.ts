import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DownloadError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { PretrainedConfig } from '../modeling/config.js';
import { fixturePath } from '../testing/fixtures.js';
import { FILE_LIST, HubServer } from '../testing/hub-server.js';
import { type OpenModelRepoOptions, openModelRepo } from './model-repo.js';
import { resolveFirstModelFile, resolveModelFiles } from './resolve.js';

const REPO = 'ortvision/vit-cls';
const folder = fixturePath('vit-cls');
const LOAD = ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'];

let server: HubServer;
let root: string;
let cacheDir: string;
let options: OpenModelRepoOptions;

beforeEach(async () => {
  server = await HubServer.start({ repoId: REPO, folder });
  root = await mkdtemp(join(tmpdir(), 'ortvision-repo-'));
  // Deep enough that a path escaping the cache by four `..` still lands inside the test's folder.
  cacheDir = join(root, 'a', 'b', 'cache');
  await mkdir(cacheDir, { recursive: true });
  options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5, token: undefined };
});

afterEach(async () => {
  server.blackHole = false;
  await server.close();
  await rm(root, { recursive: true, force: true });
});

const repoDir = () => join(cacheDir, 'models--ortvision--vit-cls');
const fileLists = () => server.requests.filter((r) => r.url.startsWith('/api/models/'));
const heads = () => server.requests.filter((r) => r.method === 'HEAD');

describe('openModelRepo on a Hub id', () => {
  it('resolves the revision and lists the files in one request; has() asks nothing', async () => {
    const repo = await openModelRepo(REPO, options);
    expect(repo.source).toBe('hub');
    expect(repo.commit).toBe(server.commit);
    expect(repo.complete).toBe(true);
    expect(repo.files).toEqual([...server.fileNames()].sort());
    expect(server.requests.map((r) => r.url)).toEqual([`/api/models/${REPO}/revision/main`]);
    expect(repo.has('onnx/model.onnx')).toBe(true);
    expect(repo.has('onnx/model_fp16.onnx')).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(server.commit);
  });

  it('downloads a file at the commit; an absent optional file costs no request and is remembered', async () => {
    const repo = await openModelRepo(REPO, options);
    const config = await repo.file('config.json');
    expect(config).toBe(join(repoDir(), 'snapshots', server.commit, 'config.json'));
    expect(readFileSync(config)).toEqual(readFileSync(join(folder, 'config.json')));
    // Asked at the commit, not at 'main': a branch that moves meanwhile cannot change what this load gets.
    expect(heads().map((r) => r.url)).toEqual([`/${REPO}/resolve/${server.commit}/config.json`]);
    const count = server.requests.length;
    expect(await repo.file('tokenizer.json', { optional: true })).toBeUndefined();
    expect(server.requests).toHaveLength(count);
    expect(existsSync(join(repoDir(), '.no_exist', server.commit, 'tokenizer.json'))).toBe(true);
    await expect(repo.file('tokenizer.json')).rejects.toThrowError(
      new ModelNotFoundError(`file tokenizer.json not found in model repository ${REPO} at revision 'main'`),
    );
    // Offline, the cache answers: known files by path, the absent one by its marker.
    const offline = await openModelRepo(REPO, { ...options, localFilesOnly: true });
    expect(offline.complete).toBe(false);
    expect(offline.files).toEqual(['config.json']);
    expect(await offline.file('config.json')).toBe(config);
    expect(await offline.file('tokenizer.json', { optional: true })).toBeUndefined();
    await expect(offline.file('onnx/model.onnx')).rejects.toThrowError(
      new ModelNotFoundError(
        `onnx/model.onnx of ${REPO} (revision 'main') is not in the Hub cache, and localFilesOnly is set; download it once with network access first`,
      ),
    );
    expect(server.requests).toHaveLength(count);
  });

  it('a graph lookup asks the file list, not a HEAD per candidate', async () => {
    const path = await resolveFirstModelFile(
      REPO,
      ['onnx/model_quantized.onnx', 'model_quantized.onnx', 'onnx/model.onnx'],
      options,
    );
    expect(path).toBe(join(repoDir(), 'snapshots', server.commit, 'onnx', 'model.onnx'));
    expect(fileLists()).toHaveLength(1);
    expect(heads().map((r) => r.url)).toEqual([`/${REPO}/resolve/${server.commit}/onnx/model.onnx`]);
    await expect(
      resolveFirstModelFile(REPO, ['onnx/model_fp16.onnx', 'model_fp16.onnx'], options),
    ).rejects.toThrow(
      `${REPO} has none of onnx/model_fp16.onnx, model_fp16.onnx (it has: config.json, model.safetensors, onnx/model.onnx, preprocessor_config.json)`,
    );
  });

  it('a branch that moves during a load: every file from the commit the load started with', async () => {
    // The second request of the load finds `main` moved: config.json changed, preprocessor_config.json deleted.
    let seen = 0;
    let moved: string | undefined;
    server.onRequest = () => {
      if (++seen === 2)
        moved = server.publish({ 'config.json': '{"model_type": "vit"}', 'preprocessor_config.json': null });
    };
    const first = server.commit;
    const { files } = await resolveModelFiles(REPO, LOAD, options);
    expect(moved).toBeDefined();
    for (const file of LOAD) {
      expect(files[file]).toBe(join(repoDir(), 'snapshots', first, ...file.split('/')));
      expect(readFileSync(files[file]!)).toEqual(readFileSync(join(folder, file)));
    }
    expect(readdirSync(join(repoDir(), 'snapshots'))).toEqual([first]);
    expect(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(first);
    // refs/main names a snapshot that has the whole load, so the next offline load works.
    const offline = await resolveModelFiles(REPO, LOAD, { ...options, localFilesOnly: true });
    expect(offline.files).toEqual(files);
    // The next online load follows the branch to its new commit.
    server.onRequest = undefined;
    await expect(resolveModelFiles(REPO, LOAD, options)).rejects.toThrow(
      `file preprocessor_config.json not found in model repository ${REPO} at revision 'main'`,
    );
    expect(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(moved);
  });

  it('refuses a file list whose commit or file names would leave the cache', async () => {
    server.metadataFaults.set(FILE_LIST, {
      kind: 'body',
      body: { sha: '../../../../outside', siblings: [{ rfilename: 'config.json' }] },
      times: 1,
    });
    const attempt = openModelRepo(REPO, options);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(
      'answered with sha "../../../../outside", which is not a 40-character hex commit hash',
    );
    server.metadataFaults.set(FILE_LIST, {
      kind: 'body',
      body: { sha: server.commit, siblings: [{ rfilename: '../../../../outside/x' }] },
      times: 1,
    });
    await expect(openModelRepo(REPO, options)).rejects.toThrow(
      'lists the file "../../../../outside/x", which is not a safe path; refusing the list',
    );
    expect(readdirSync(join(root, 'a'))).toEqual(['b']);
    expect(existsSync(join(repoDir(), 'refs'))).toBe(false);
  });

  it('validates a revision before it becomes a refs/ path', async () => {
    for (const revision of ['../../../../outside', '/etc/passwd', 'main/../..', 'a\\b', '']) {
      await expect(openModelRepo(REPO, { ...options, revision })).rejects.toThrow(InvalidArgumentError);
    }
    expect(server.requests).toEqual([]);
    const repo = await openModelRepo(REPO, { ...options, revision: server.commit });
    expect(repo.commit).toBe(server.commit);
    expect(existsSync(join(repoDir(), 'refs'))).toBe(false);
  });

  it('shares one snapshot between loaders through the repo option', async () => {
    const repo = await openModelRepo(REPO, options);
    const config = await PretrainedConfig.fromPretrained(REPO, { ...options, repo });
    expect(config.model_type).toBe('vit');
    expect(fileLists()).toHaveLength(1);
    await expect(openModelRepo('ortvision/other', { ...options, repo })).rejects.toThrow(
      InvalidArgumentError,
    );
  });
});

describe('a mistyped local folder that looks like a Hub id', () => {
  it('names both candidates: no such folder, and no public repository', async () => {
    const attempt = PretrainedConfig.fromPretrained('fixtures/vit-digitz', options);
    await expect(attempt).rejects.toThrow(ModelNotFoundError);
    await expect(attempt).rejects.toThrow(
      `no folder 'fixtures/vit-digitz' here (${process.cwd()}), and the Hub has no public repository 'fixtures/vit-digitz' (if it is private, set HF_TOKEN to a Hugging Face access token with access to it: https://huggingface.co/settings/tokens)`,
    );
    await expect(
      resolveModelFiles('fixtures/vit-digitz', ['config.json'], { ...options, token: 'hf_x' }),
    ).rejects.toThrowError(
      new ModelNotFoundError(
        `no folder 'fixtures/vit-digitz' here (${process.cwd()}), and the Hub has no repository 'fixtures/vit-digitz' that the token in HF_TOKEN can see`,
      ),
    );
    // Not retried: the answer is definite.
    expect(fileLists()).toHaveLength(2);
  });

  it('a folder that exists is used, even when it looks like a Hub id', async () => {
    const repo = await openModelRepo(folder, options);
    expect(repo.source).toBe('local');
    expect(repo.files).toContain('onnx/model.onnx');
    expect(server.requests).toEqual([]);
    await expect(PretrainedConfig.fromPretrained(join(root, 'a'), options)).rejects.toThrow(ConfigError);
  });
});
