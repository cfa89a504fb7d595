import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthenticationError, DownloadError, InvalidArgumentError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { FILE_LIST, HubServer, closedEndpoint } from '../testing/hub-server.js';
import { TransientError, withRetries } from './http.js';
import { type HubDownloadOptions, hubDownload, metadataTimeoutMs } from './hub-file.js';
import { resolveModelFiles } from './resolve.js';

// Issue #16: a Hub that answers with hostile headers, answers nothing, refuses an expired token, is down, asks to
// be left alone (Retry-After), or announces a wrong size. Each fault is injected by the local HubServer.

const REPO = 'ortvision/vit-cls';
const folder = fixturePath('vit-cls');
const MODEL = 'onnx/model.onnx';
const LOAD = ['config.json', 'preprocessor_config.json', MODEL];

let server: HubServer;
let root: string;
let cacheDir: string;
let options: HubDownloadOptions;
let warnings: string[];
const onWarning = (warning: Error) => warnings.push(warning.message);

beforeEach(async () => {
  server = await HubServer.start({ repoId: REPO, folder });
  root = await mkdtemp(join(tmpdir(), 'ortvision-faults-'));
  cacheDir = join(root, 'a', 'b', 'cache');
  await mkdir(cacheDir, { recursive: true });
  options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5, token: undefined };
  warnings = [];
  process.on('warning', onWarning);
});

afterEach(async () => {
  process.off('warning', onWarning);
  server.blackHole = false;
  await server.close();
  await rm(root, { recursive: true, force: true });
});

const repoDir = () => join(cacheDir, 'models--ortvision--vit-cls');
const fileLists = () => server.requests.filter((r) => r.url.startsWith('/api/models/'));
const cdnGets = () => server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'));
/** Everything under the test folder outside the cache: must stay empty whatever the server answers. */
const outside = () => readdirSync(join(root, 'a')).filter((name) => name !== 'b');

async function warmCache(): Promise<Record<string, string | undefined>> {
  const { files } = await resolveModelFiles(REPO, LOAD, options);
  server.requests.length = 0;
  return files;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

describe('1. header values never become paths outside the cache', () => {
  it('an X-Repo-Commit with ../ is refused, and nothing is written outside the cache', async () => {
    server.metadataFaults.set('config.json', {
      kind: 'headers',
      headers: { 'x-repo-commit': '../../../../outside' },
      times: 10,
    });
    const attempt = hubDownload(REPO, 'config.json', options);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(
      'answered with X-Repo-Commit "../../../../outside", which is not a 40-character hex commit hash; refusing it',
    );
    expect(outside()).toEqual([]);
    expect(existsSync(join(repoDir(), 'refs'))).toBe(false);
    // Refused at once: a hostile answer is not retried.
    expect(server.requests.filter((r) => r.method === 'HEAD')).toHaveLength(1);
  });

  it('an ETag that is not a hex digest is refused, for regular and LFS files', async () => {
    server.metadataFaults.set('config.json', {
      kind: 'headers',
      headers: { etag: '"../../../../outside"' },
      times: 1,
    });
    await expect(hubDownload(REPO, 'config.json', options)).rejects.toThrow(
      'answered with ETag "../../../../outside", which is not a sha256 or git-sha1 hex digest; refusing it as a file name',
    );
    server.metadataFaults.set(MODEL, { kind: 'headers', headers: { 'x-linked-etag': '"W/abc"' }, times: 1 });
    await expect(hubDownload(REPO, MODEL, options)).rejects.toThrow(DownloadError);
    expect(outside()).toEqual([]);
    expect(existsSync(join(repoDir(), 'blobs'))).toBe(false);
    expect(cdnGets()).toEqual([]);
  });

  it('a revision given by the caller is checked before it becomes a refs/ path', async () => {
    const attempt = hubDownload(REPO, 'config.json', { ...options, revision: '../../../../outside' });
    await expect(attempt).rejects.toThrow(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(
      'invalid revision "../../../../outside" (expected a branch, a tag, refs/pr/<n> or a 40-character commit hash)',
    );
    expect(server.requests).toEqual([]);
    // Nested refs such as refs/pr/1 stay valid.
    await expect(hubDownload(REPO, 'config.json', { ...options, revision: 'refs/pr/1' })).rejects.toThrow(
      "revision 'refs/pr/1' not found in model repository ortvision/vit-cls",
    );
  });
});

describe('5. a Hub that accepts connections and never answers', () => {
  it('warm cache: the load falls back to the cache after the metadata timeout', async () => {
    const files = await warmCache();
    server.blackHole = true;
    const { value, ms } = await timed(() =>
      resolveModelFiles(REPO, LOAD, { ...options, metadataTimeoutMs: 300 }),
    );
    expect(value.files).toEqual(files);
    expect(ms).toBeLessThan(2000);
    // One question for the whole load, not one per file.
    expect(server.requests).toHaveLength(1);
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(warnings.some((w) => /could not be reached: .*no answer within 300 ms/.test(w))).toBe(true);
    const single = await timed(() =>
      hubDownload(REPO, 'config.json', { ...options, metadataTimeoutMs: 300 }),
    );
    expect(single.value).toBe(files['config.json']);
    expect(single.ms).toBeLessThan(2000);
  });

  it('cold cache: DownloadError after the retries, each one timed out', async () => {
    server.blackHole = true;
    const attempt = resolveModelFiles(REPO, LOAD, { ...options, metadataTimeoutMs: 100, retries: 1 });
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(/failed after 2 attempts: no answer within 100 ms/);
  });

  it('the timeout defaults to 10 s, or HF_HUB_ETAG_TIMEOUT seconds as in huggingface_hub', () => {
    expect(metadataTimeoutMs({}, {})).toBe(10_000);
    expect(metadataTimeoutMs({}, { HF_HUB_ETAG_TIMEOUT: '2.5' })).toBe(2500);
    expect(metadataTimeoutMs({ metadataTimeoutMs: 50 }, { HF_HUB_ETAG_TIMEOUT: '2' })).toBe(50);
  });
});

describe('6. an expired token with a warm cache', () => {
  it('401 and 403: the cached files, with a warning; without a cached file the typed error stays', async () => {
    await server.close();
    server = await HubServer.start({ repoId: REPO, folder, token: 'hf_old' });
    options = { ...options, endpoint: server.endpoint, token: 'hf_old' };
    const files = await warmCache();
    server.token = 'hf_new';
    const { files: again } = await resolveModelFiles(REPO, LOAD, options);
    expect(again).toEqual(files);
    expect(await hubDownload(REPO, 'config.json', options)).toBe(files['config.json']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.some((w) => w.includes('because the Hub refused the request'))).toBe(true);
    await expect(hubDownload(REPO, 'model.safetensors', options)).rejects.toThrow(AuthenticationError);
    await expect(hubDownload(REPO, 'model.safetensors', options)).rejects.toThrow(
      'the token in HF_TOKEN does not give access to it',
    );

    server.token = 'hf_old';
    server.metadataFaults.set('*', { kind: 'status', status: 403, times: 2 });
    expect((await resolveModelFiles(REPO, LOAD, options)).files).toEqual(files);
    expect(await hubDownload(REPO, 'config.json', options)).toBe(files['config.json']);
  });
});

describe('7. outages', () => {
  it('a Hub that is down, warm cache: the load uses the cache at once, with the default retry settings', async () => {
    const files = await warmCache();
    const defaults = { cacheDir, endpoint: await closedEndpoint(), token: undefined };
    const { value, ms } = await timed(() => resolveModelFiles(REPO, LOAD, defaults));
    expect(value.files).toEqual(files);
    expect(ms).toBeLessThan(1000);
    const single = await timed(() => hubDownload(REPO, MODEL, defaults));
    expect(single.value).toBe(files[MODEL]);
    expect(single.ms).toBeLessThan(1000);
  });

  it('a 503 with a warm cache falls back after one attempt', async () => {
    const files = await warmCache();
    server.metadataFaults.set(FILE_LIST, { kind: 'status', status: 503, times: 10 });
    expect((await resolveModelFiles(REPO, LOAD, { ...options, retryDelayMs: 1000 })).files).toEqual(files);
    expect(server.requests).toHaveLength(1);
  });

  it('honours Retry-After on 429 and 503', async () => {
    for (const status of [429, 503]) {
      server.requests.length = 0;
      server.metadataFaults.set(FILE_LIST, {
        kind: 'status',
        status,
        headers: { 'retry-after': '1' },
        times: 1,
      });
      // A cold cache each time: with a warm one, the load would use the cache instead of waiting.
      await resolveModelFiles(REPO, ['config.json'], { ...options, cacheDir: join(root, String(status)) });
      const [first, second] = fileLists();
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
      // The same for one file's HEAD.
      server.requests.length = 0;
      server.metadataFaults.set('config.json', {
        kind: 'status',
        status,
        headers: { 'retry-after': '1' },
        times: 1,
      });
      await hubDownload(REPO, 'config.json', { ...options, cacheDir: join(root, `${status}-head`) });
      const [head, again] = server.requests.filter((r) => r.method === 'HEAD');
      expect(again!.at - head!.at).toBeGreaterThanOrEqual(950);
    }
  });

  it('caps each backoff wait, and refuses to wait for a Retry-After beyond a minute', async () => {
    const fail = async () => {
      throw new TransientError('reset');
    };
    // Uncapped, 4 waits from 200 ms would take at least 0.75 x (200 + 400 + 800 + 1600) = 2250 ms.
    const { ms } = await timed(() =>
      withRetries('x', fail, { retries: 4, retryDelayMs: 200, maxRetryDelayMs: 100 }).catch(() => undefined),
    );
    expect(ms).toBeLessThan(1000);
    const started = performance.now();
    await expect(
      withRetries(
        'asking the Hub',
        async () => {
          throw new TransientError('the Hub answered 429', { retryAfterMs: 3_600_000 });
        },
        { retries: 3 },
      ),
    ).rejects.toThrowError(
      new DownloadError(
        'asking the Hub failed: the Hub answered 429, and the server asks to wait 3600 s before trying again',
      ),
    );
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('9. a wrong X-Linked-Size', () => {
  it('is a permanent mismatch: one download, a DownloadError naming both sizes, nothing kept', async () => {
    const size = readFileSync(join(folder, MODEL)).length;
    server.metadataFaults.set(MODEL, {
      kind: 'headers',
      headers: { 'x-linked-size': String(size + 10) },
      times: 10,
    });
    const attempt = hubDownload(REPO, MODEL, options);
    await expect(attempt).rejects.toThrowError(
      new DownloadError(
        `${MODEL} of ${REPO}: the Hub announced ${size + 10} bytes, its download has ${size}`,
      ),
    );
    expect(cdnGets()).toHaveLength(1);
    expect(existsSync(join(repoDir(), 'snapshots'))).toBe(false);
    const blobs = existsSync(join(repoDir(), 'blobs')) ? readdirSync(join(repoDir(), 'blobs')) : [];
    expect(blobs.filter((name) => !name.endsWith('.incomplete'))).toEqual([]);
  });
});
