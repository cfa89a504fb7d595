import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HubCache, repoFolderName } from './cache.js';
import { defaultCacheDir, hubEndpoint, hubToken, isOffline } from './environment.js';
import { hubDownload } from './hub-file.js';

const COMMIT = 'a'.repeat(40);

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'ortvision-cache-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Lays out a cache entry exactly as huggingface_hub writes it. */
async function pythonCache(repoId: string, file: string, content: string, revision = 'main') {
  const repo = join(root, repoFolderName(repoId));
  const etag = 'b'.repeat(64);
  await mkdir(join(repo, 'blobs'), { recursive: true });
  await writeFile(join(repo, 'blobs', etag), content);
  const pointer = join(repo, 'snapshots', COMMIT, ...file.split('/'));
  await mkdir(join(pointer, '..'), { recursive: true });
  const depth = file.split('/').length + 1;
  await symlink(`${'../'.repeat(depth)}blobs/${etag}`, pointer);
  await mkdir(join(repo, 'refs'), { recursive: true });
  await writeFile(join(repo, 'refs', revision), COMMIT);
  return pointer;
}

describe('HubCache', () => {
  it('names repository folders as huggingface_hub does', () => {
    expect(repoFolderName('google/vit-base-patch16-224')).toBe('models--google--vit-base-patch16-224');
    expect(repoFolderName('gpt2')).toBe('models--gpt2');
  });

  it('reads files huggingface_hub downloaded, offline, by branch and by commit', async () => {
    const pointer = await pythonCache('org/model', 'onnx/model.onnx', 'graph');
    const options = { cacheDir: root, localFilesOnly: true };
    expect(await hubDownload('org/model', 'onnx/model.onnx', options)).toBe(pointer);
    expect(await hubDownload('org/model', 'onnx/model.onnx', { ...options, revision: COMMIT })).toBe(pointer);
    await expect(hubDownload('org/model', 'onnx/model.onnx', { ...options, revision: 'v2' })).rejects.toThrow(
      "onnx/model.onnx of org/model (revision 'v2') is not in the Hub cache",
    );
  });

  it('knows files recorded as absent', async () => {
    await pythonCache('org/model', 'config.json', '{}');
    const cache = new HubCache(root);
    expect(cache.lookup('org/model', 'main', 'tokenizer.json')).toEqual({ state: 'unknown' });
    await cache.markAbsent('org/model', COMMIT, 'tokenizer.json');
    expect(cache.lookup('org/model', 'main', 'tokenizer.json')).toEqual({ state: 'absent' });
    expect(
      await hubDownload('org/model', 'tokenizer.json', {
        cacheDir: root,
        localFilesOnly: true,
        optional: true,
      }),
    ).toBe(undefined);
  });

  it('keeps nested refs such as refs/pr/1', async () => {
    const cache = new HubCache(root);
    await cache.writeRef('org/model', 'refs/pr/1', COMMIT);
    expect(cache.commitFor('org/model', 'refs/pr/1')).toBe(COMMIT);
  });
});

describe('environment', () => {
  it("resolves the cache folder in huggingface_hub's order", () => {
    expect(defaultCacheDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(defaultCacheDir({ HF_HOME: '/b' })).toBe(join('/b', 'hub'));
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(join('/x', 'huggingface', 'hub'));
  });

  it('reads HF_ENDPOINT, HF_HUB_OFFLINE and HF_TOKEN', () => {
    expect(hubEndpoint({})).toBe('https://huggingface.co');
    expect(hubEndpoint({ HF_ENDPOINT: 'https://hf-mirror.example/' })).toBe('https://hf-mirror.example');
    expect(isOffline({ HF_HUB_OFFLINE: '1' })).toBe(true);
    expect(isOffline({ HF_HUB_OFFLINE: 'true' })).toBe(true);
    expect(isOffline({ HF_HUB_OFFLINE: '0' })).toBe(false);
    expect(hubToken({ HF_TOKEN: ' hf_x ', HF_HOME: root })).toBe('hf_x');
  });

  it('reads the token file huggingface-cli login writes', async () => {
    await writeFile(join(root, 'token'), 'hf_from_file\n');
    expect(hubToken({ HF_HOME: root })).toBe('hf_from_file');
    expect(hubToken({ HF_HOME: join(root, 'nowhere') })).toBeUndefined();
  });
});
