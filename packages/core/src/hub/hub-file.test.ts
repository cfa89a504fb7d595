import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError, DownloadError, ModelNotFoundError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';
import { type HubDownloadOptions, hubDownload } from './hub-file.js';
import type { DownloadProgress } from './transfer.js';

const REPO = 'ortvision/vit-cls';
const folder = fixturePath('vit-cls');
const source = (file: string) => readFileSync(join(folder, file));

let server: HubServer;
let cacheDir: string;
let options: HubDownloadOptions;

beforeEach(async () => {
  server = await HubServer.start({ repoId: REPO, folder, renamedFrom: 'old-org/vit-cls' });
  cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-hub-'));
  options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5, token: undefined };
});

afterEach(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const gets = (pathPart: string) =>
  server.requests.filter((r) => r.method === 'GET' && r.url.includes(pathPart));
const repoDir = () => join(cacheDir, 'models--ortvision--vit-cls');

describe('hubDownload', () => {
  it("downloads into huggingface_hub's cache layout", async () => {
    const config = await hubDownload(REPO, 'config.json', options);
    const model = await hubDownload(REPO, 'onnx/model.onnx', options);
    expect(config).toBe(join(repoDir(), 'snapshots', server.commit, 'config.json'));
    expect(model).toBe(join(repoDir(), 'snapshots', server.commit, 'onnx', 'model.onnx'));
    expect(readFileSync(config!)).toEqual(source('config.json'));
    expect(readFileSync(model!)).toEqual(source('onnx/model.onnx'));
    // Regular files are named by their git blob id, LFS files by their sha256; snapshots are relative links.
    expect(readlinkSync(config!)).toBe(`../../blobs/${server.gitSha1('config.json')}`);
    expect(readlinkSync(model!)).toBe(`../../../blobs/${server.sha256('onnx/model.onnx')}`);
    expect(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(server.commit);
    expect(readdirSync(join(repoDir(), 'blobs')).filter((name) => name.endsWith('.incomplete'))).toEqual([]);
  });

  it('reuses the cache: a second call only asks for metadata', async () => {
    await hubDownload(REPO, 'onnx/model.onnx', options);
    const before = gets('/cdn/').length;
    await hubDownload(REPO, 'onnx/model.onnx', options);
    expect(gets('/cdn/').length).toBe(before);
    expect(server.requests.at(-1)!.method).toBe('HEAD');
  });

  it('never touches the network with localFilesOnly or HF_HUB_OFFLINE', async () => {
    await expect(hubDownload(REPO, 'config.json', { ...options, localFilesOnly: true })).rejects.toThrow(
      ModelNotFoundError,
    );
    await expect(hubDownload(REPO, 'config.json', { ...options, localFilesOnly: true })).rejects.toThrow(
      "config.json of ortvision/vit-cls (revision 'main') is not in the Hub cache, and localFilesOnly is set",
    );
    expect(server.requests).toEqual([]);
    const online = await hubDownload(REPO, 'config.json', options);
    const count = server.requests.length;
    expect(await hubDownload(REPO, 'config.json', { ...options, localFilesOnly: true })).toBe(online);
    process.env.HF_HUB_OFFLINE = '1';
    try {
      expect(await hubDownload(REPO, 'config.json', options)).toBe(online);
      await expect(hubDownload(REPO, 'preprocessor_config.json', options)).rejects.toThrow(
        'HF_HUB_OFFLINE is set',
      );
    } finally {
      Reflect.deleteProperty(process.env, 'HF_HUB_OFFLINE');
    }
    expect(server.requests.length).toBe(count);
  });

  it('resumes with a Range request after the connection is cut mid-file', async () => {
    server.faults.set('onnx/model.onnx', { kind: 'cut', afterBytes: 50_000, times: 1 });
    const progress: DownloadProgress[] = [];
    const path = await hubDownload(REPO, 'onnx/model.onnx', {
      ...options,
      onProgress: (p) => progress.push(p),
    });
    expect(readFileSync(path!)).toEqual(source('onnx/model.onnx'));
    const downloads = gets('/cdn/');
    expect(downloads.length).toBe(2);
    expect(downloads[0]!.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(downloads[1]!.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(50_000);
    const size = source('onnx/model.onnx').length;
    expect(progress.at(-1)).toEqual({ file: 'onnx/model.onnx', loaded: size, total: size });
    expect(
      progress.every((p, i) => i === 0 || p.loaded >= progress[i - 1]!.loaded || p.loaded === resumedAt),
    ).toBe(true);
  });

  it('continues a partial file a killed process left behind', async () => {
    const sha = server.sha256('onnx/model.onnx');
    await mkdir(join(repoDir(), 'blobs'), { recursive: true });
    await writeFile(
      join(repoDir(), 'blobs', `${sha}.incomplete`),
      source('onnx/model.onnx').subarray(0, 1234),
    );
    const path = await hubDownload(REPO, 'onnx/model.onnx', options);
    expect(readFileSync(path!)).toEqual(source('onnx/model.onnx'));
    expect(gets('/cdn/').map((r) => r.range)).toEqual(['bytes=1234-']);
  });

  it('without flock, continues the partial file of a dead process (its own name, taken over by rename)', async () => {
    const sha = server.sha256('onnx/model.onnx');
    const host = createHash('sha1').update(hostname()).digest('hex').slice(0, 8);
    // pid 2^22 + 1 is above Linux's pid_max default, so no process has it.
    const orphan = join(repoDir(), 'blobs', `${sha}.${host}-4194305.incomplete`);
    await mkdir(join(repoDir(), 'blobs'), { recursive: true });
    await writeFile(orphan, source('onnx/model.onnx').subarray(0, 1234));
    process.env.ORTVISION_HUB_LOCK = 'none';
    try {
      const path = await hubDownload(REPO, 'onnx/model.onnx', options);
      expect(readFileSync(path!)).toEqual(source('onnx/model.onnx'));
    } finally {
      Reflect.deleteProperty(process.env, 'ORTVISION_HUB_LOCK');
    }
    expect(gets('/cdn/').map((r) => r.range)).toEqual(['bytes=1234-']);
    expect(readdirSync(join(repoDir(), 'blobs'))).toEqual([sha]);
  });

  it('retries a 500 and succeeds', async () => {
    server.faults.set('config.json', { kind: 'status', status: 500, times: 2 });
    const path = await hubDownload(REPO, 'config.json', options);
    expect(readFileSync(path!)).toEqual(source('config.json'));
    expect(gets('config.json').length).toBe(3);
  });

  it('gives up with DownloadError when 5xx persists', async () => {
    server.faults.set('config.json', { kind: 'status', status: 503, times: 100 });
    const attempt = hubDownload(REPO, 'config.json', { ...options, retries: 2 });
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow('failed after 3 attempts');
    expect(existsSync(join(repoDir(), 'snapshots', server.commit, 'config.json'))).toBe(false);
  });

  it('retries a stalled transfer after the idle timeout', async () => {
    server.faults.set('onnx/model.onnx', { kind: 'stall', afterBytes: 10_000, times: 1 });
    const path = await hubDownload(REPO, 'onnx/model.onnx', { ...options, idleTimeoutMs: 300 });
    expect(readFileSync(path!)).toEqual(source('onnx/model.onnx'));
    expect(gets('/cdn/').at(-1)!.range).toMatch(/^bytes=\d+-$/);
  });

  it('404: names the file and the repository; optional files give undefined', async () => {
    const attempt = hubDownload(REPO, 'tokenizer.json', options);
    await expect(attempt).rejects.toThrow(ModelNotFoundError);
    await expect(attempt).rejects.toThrow(
      "file tokenizer.json not found in model repository ortvision/vit-cls at revision 'main'",
    );
    expect(await hubDownload(REPO, 'tokenizer.json', { ...options, optional: true })).toBeUndefined();
    // Known absent, so offline lookups of the optional file need no network either.
    expect(existsSync(join(repoDir(), '.no_exist', server.commit, 'tokenizer.json'))).toBe(true);
    expect(
      await hubDownload(REPO, 'tokenizer.json', { ...options, optional: true, localFilesOnly: true }),
    ).toBeUndefined();
    // Without a token the Hub answers 401 RepoNotFound for a repository that does not exist (or is private).
    await expect(
      hubDownload('ortvision/missing', 'config.json', { ...options, optional: true }),
    ).rejects.toThrowError(
      new ModelNotFoundError(
        "the Hub has no public repository 'ortvision/missing' (if it is private, set HF_TOKEN to a Hugging Face access token with access to it: https://huggingface.co/settings/tokens)",
      ),
    );
    await expect(
      hubDownload('ortvision/missing', 'config.json', { ...options, token: 'hf_x' }),
    ).rejects.toThrowError(
      new ModelNotFoundError(
        "the Hub has no repository 'ortvision/missing' that the token in HF_TOKEN can see",
      ),
    );
  });

  it('401: says a token is needed, and sends HF_TOKEN to the Hub', async () => {
    await server.close();
    server = await HubServer.start({ repoId: REPO, folder, token: 'hf_secret' });
    options.endpoint = server.endpoint;
    // A private repository looks like a missing one without a token: the error says both.
    const attempt = hubDownload(REPO, 'config.json', options);
    await expect(attempt).rejects.toThrow(ModelNotFoundError);
    await expect(attempt).rejects.toThrow(
      "the Hub has no public repository 'ortvision/vit-cls' (if it is private, set HF_TOKEN to a Hugging Face access token",
    );
    process.env.HF_TOKEN = 'hf_secret';
    try {
      const { token: _, ...withoutToken } = options;
      const path = await hubDownload(REPO, 'config.json', withoutToken);
      expect(readFileSync(path!)).toEqual(source('config.json'));
    } finally {
      Reflect.deleteProperty(process.env, 'HF_TOKEN');
    }
    expect(server.requests.at(-1)!.authorization).toBe('Bearer hf_secret');
    await expect(
      hubDownload(REPO, 'preprocessor_config.json', { ...options, token: 'hf_wrong' }),
    ).rejects.toThrow('the token in HF_TOKEN does not give access to it');
  });

  it('refuses a file whose checksum does not match the etag and leaves nothing behind', async () => {
    server.faults.set('onnx/model.onnx', { kind: 'corrupt', times: 10 });
    const attempt = hubDownload(REPO, 'onnx/model.onnx', options);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow('onnx/model.onnx of ortvision/vit-cls is corrupt: its sha256 is');
    expect(readdirSync(join(repoDir(), 'blobs'))).toEqual([]);
    expect(existsSync(join(repoDir(), 'snapshots', server.commit, 'onnx', 'model.onnx'))).toBe(false);
  });

  it('verifies regular files by their git blob id', async () => {
    server.faults.set('config.json', { kind: 'corrupt', times: 10 });
    await expect(hubDownload(REPO, 'config.json', options)).rejects.toThrow('is corrupt: its git-sha1 is');
  });

  it('follows the relative 307 of a renamed repository', async () => {
    const path = await hubDownload('old-org/vit-cls', 'config.json', options);
    expect(readFileSync(path!)).toEqual(source('config.json'));
    expect(path).toContain('models--old-org--vit-cls');
  });

  it('downloads a file once when several callers want it at the same time', async () => {
    const paths = await Promise.all(
      Array.from({ length: 4 }, () => hubDownload(REPO, 'onnx/model.onnx', options)),
    );
    expect(new Set(paths).size).toBe(1);
    expect(readFileSync(paths[0]!)).toEqual(source('onnx/model.onnx'));
    expect(gets('/cdn/').length).toBe(1);
  });

  it('honours HF_ENDPOINT and HF_HUB_CACHE', async () => {
    process.env.HF_ENDPOINT = server.endpoint;
    process.env.HF_HUB_CACHE = cacheDir;
    try {
      const path = await hubDownload(REPO, 'config.json', { retryDelayMs: 5 });
      expect(path).toBe(join(repoDir(), 'snapshots', server.commit, 'config.json'));
    } finally {
      Reflect.deleteProperty(process.env, 'HF_ENDPOINT');
      Reflect.deleteProperty(process.env, 'HF_HUB_CACHE');
    }
  });

  it('accepts a commit hash as revision and resolves it offline without refs', async () => {
    const path = await hubDownload(REPO, 'config.json', { ...options, revision: server.commit });
    expect(existsSync(join(repoDir(), 'refs', 'main'))).toBe(false);
    const count = server.requests.length;
    expect(await hubDownload(REPO, 'config.json', { ...options, revision: server.commit })).toBe(path);
    expect(server.requests.length).toBe(count);
    expect(
      await hubDownload(REPO, 'config.json', { ...options, revision: server.commit, localFilesOnly: true }),
    ).toBe(path);
  });
});

describe('hubDownload without a reachable Hub', () => {
  it('falls back to the cached copy when the Hub cannot be reached', async () => {
    const path = await hubDownload(REPO, 'config.json', options);
    await server.close();
    server = await HubServer.start({ repoId: REPO, folder });
    const deadEndpoint = 'http://127.0.0.1:9';
    expect(await hubDownload(REPO, 'config.json', { ...options, endpoint: deadEndpoint, retries: 0 })).toBe(
      path,
    );
    await expect(
      hubDownload(REPO, 'preprocessor_config.json', { ...options, endpoint: deadEndpoint, retries: 1 }),
    ).rejects.toThrow(DownloadError);
  });
});
