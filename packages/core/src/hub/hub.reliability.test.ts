import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AuthenticationError, DownloadError } from '../errors.js';
import { fixturePath } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';
import { runChild } from './__fixtures__/node-child.js';
import { type HubDownloadOptions, hubDownload } from './hub-file.js';

// Faults the Hub and the disk can throw at a download (issue #12). The server faults (cut, status, corrupt, stall)
// come from HubServer; disk faults come from this seam over node:fs/promises, which the cache, the lock and the
// transfer all write through.
const disk = vi.hoisted(() => ({
  /** Writes to a path matching this fail with ENOSPC once `allowBytes` bytes went into it. */
  fullAfter: undefined as { match: RegExp; allowBytes: number } | undefined,
  /** mkdir under this folder fails with EROFS. */
  readOnly: undefined as string | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const errno = (code: string, syscall: string, path: string, text: string) =>
    Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), { code, syscall, path });
  const open: typeof actual.open = async (path, flags, mode) => {
    const handle = await actual.open(path, flags, mode);
    const full = disk.fullAfter;
    if (!full || !full.match.test(String(path))) return handle;
    let written = 0;
    const write = handle.write.bind(handle) as (chunk: Uint8Array) => Promise<unknown>;
    return Object.assign(handle, {
      write: async (chunk: Uint8Array) => {
        const room = Math.max(0, full.allowBytes - written);
        if (chunk.byteLength > room) {
          if (room > 0) await write(chunk.subarray(0, room));
          written += room;
          throw errno('ENOSPC', 'write', String(path), 'no space left on device');
        }
        written += chunk.byteLength;
        return write(chunk);
      },
    });
  };
  const mkdir: typeof actual.mkdir = (async (path: string, options?: object) => {
    if (disk.readOnly && String(path).startsWith(disk.readOnly)) {
      throw errno('EROFS', 'mkdir', String(path), 'read-only file system');
    }
    return actual.mkdir(path, options as never);
  }) as typeof actual.mkdir;
  return { ...actual, open, mkdir, default: { ...actual, open, mkdir } };
});

const REPO = 'ortvision/vit-cls';
const folder = fixturePath('vit-cls');
const MODEL = 'onnx/model.onnx';
const source = (file: string) => readFileSync(join(folder, file));

let server: HubServer;
let cacheDir: string;
let options: HubDownloadOptions;

beforeEach(async () => {
  server = await HubServer.start({ repoId: REPO, folder });
  cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-hub-rel-'));
  options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5, token: undefined };
});

afterEach(async () => {
  disk.fullAfter = undefined;
  disk.readOnly = undefined;
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const repoDir = () => join(cacheDir, 'models--ortvision--vit-cls');
const blobs = () => (existsSync(join(repoDir(), 'blobs')) ? readdirSync(join(repoDir(), 'blobs')) : []);
const snapshot = (file: string) => join(repoDir(), 'snapshots', server.commit, ...file.split('/'));
const cdnGets = () => server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'));

/** Nothing that looks complete: no finished blob and no snapshot entry (a resumable `.incomplete` may stay). */
function expectNothingComplete(file: string) {
  expect(blobs().filter((name) => !name.endsWith('.incomplete') && !name.endsWith('.lock'))).toEqual([]);
  expect(existsSync(snapshot(file))).toBe(false);
}

describe('a full disk (a write error mid-download)', () => {
  it('fails with DownloadError naming the cause, leaves nothing that looks complete, and resumes later', async () => {
    disk.fullAfter = { match: /\.incomplete$/, allowBytes: 40_000 };
    const attempt = hubDownload(REPO, MODEL, options);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(
      /^cannot write onnx\/model\.onnx of ortvision\/vit-cls into the Hub cache .*: ENOSPC: no space left on device/,
    );
    expectNothingComplete(MODEL);
    // The lock is released, so the next call can take it.
    expect(blobs().filter((name) => name.endsWith('.lock'))).toEqual([]);
    disk.fullAfter = undefined;
    const path = await hubDownload(REPO, MODEL, options);
    expect(readFileSync(path!)).toEqual(source(MODEL));
    expect(cdnGets().at(-1)!.range).toMatch(/^bytes=\d+-$/);
  });

  it('a read-only cache folder fails with DownloadError before any transfer', async () => {
    disk.readOnly = cacheDir;
    const attempt = hubDownload(REPO, 'config.json', options);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(/EROFS: read-only file system/);
    expect(existsSync(repoDir())).toBe(false);
  });
});

describe('Hub faults that persist past the retries', () => {
  it('a connection cut on every attempt: DownloadError after the retries, nothing complete', async () => {
    server.faults.set(MODEL, { kind: 'cut', afterBytes: 10_000, times: 100 });
    const attempt = hubDownload(REPO, MODEL, { ...options, retries: 2 });
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(
      /^downloading onnx\/model\.onnx of ortvision\/vit-cls failed after 3 attempts/,
    );
    expect(cdnGets().length).toBe(3);
    expectNothingComplete(MODEL);
  });

  it('a stall on every attempt: DownloadError naming the idle timeout', async () => {
    server.faults.set(MODEL, { kind: 'stall', afterBytes: 5_000, times: 100 });
    const attempt = hubDownload(REPO, MODEL, { ...options, retries: 1, idleTimeoutMs: 150 });
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(/failed after 2 attempts: no data received for 150 ms/);
    expectNothingComplete(MODEL);
  });

  it('429 Too Many Requests is retried', async () => {
    server.faults.set('config.json', { kind: 'status', status: 429, times: 2 });
    const path = await hubDownload(REPO, 'config.json', options);
    expect(readFileSync(path!)).toEqual(source('config.json'));
  });

  it('403 is an AuthenticationError at once, without retries', async () => {
    server.faults.set('config.json', { kind: 'status', status: 403, times: 100 });
    const attempt = hubDownload(REPO, 'config.json', options);
    await expect(attempt).rejects.toThrow(AuthenticationError);
    await expect(attempt).rejects.toThrow('the Hub refused config.json of ortvision/vit-cls (HTTP 403)');
    expect(server.requests.filter((r) => r.method === 'GET').length).toBe(1);
  });

  it('an unexpected 4xx is a DownloadError naming the status', async () => {
    server.faults.set('config.json', { kind: 'status', status: 418, times: 1 });
    await expect(hubDownload(REPO, 'config.json', options)).rejects.toThrowError(
      new DownloadError("the Hub answered HTTP 418 for config.json of ortvision/vit-cls at revision 'main'"),
    );
  });

  it('one corrupt transfer: DownloadError and nothing kept; the next call gets the right bytes', async () => {
    server.faults.set(MODEL, { kind: 'corrupt', times: 1 });
    await expect(hubDownload(REPO, MODEL, options)).rejects.toThrow(/is corrupt: its sha256 is/);
    expect(blobs()).toEqual([]);
    const path = await hubDownload(REPO, MODEL, options);
    expect(readFileSync(path!)).toEqual(source(MODEL));
  });
});

describe('two processes downloading the same file while the Hub cuts the connection', () => {
  const run = promisify(execFile);
  const child = fileURLToPath(new URL('./__fixtures__/download-child.ts', import.meta.url));

  it('leave one intact cache entry', async () => {
    server.faults.set(MODEL, { kind: 'cut', afterBytes: 30_000, times: 2 });
    const args = [child, server.endpoint, cacheDir, REPO, MODEL];
    const results = await Promise.all([0, 1].map(() => runChild(args[0]!, args.slice(1))));
    const paths = results.map((result) => result.stdout.trim());
    expect(paths).toEqual([snapshot(MODEL), snapshot(MODEL)]);
    expect(readFileSync(paths[0]!)).toEqual(source(MODEL));
    expect(blobs()).toEqual([server.sha256(MODEL)]);
    expect(readdirSync(join(repoDir(), 'snapshots', server.commit, 'onnx'))).toEqual(['model.onnx']);
  });
});
