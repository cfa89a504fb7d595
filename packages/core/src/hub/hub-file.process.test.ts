import { execFile, spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';
import { runChild } from './__fixtures__/node-child.js';
import { repoFolderName } from './cache.js';
import { hubDownload } from './hub-file.js';

// Processes loading one model at once into a cold cache (issue #16 items 2-4): real processes on a loopback Hub,
// started together (the server holds their first requests until all arrived).

const run = promisify(execFile);
const downloadChild = fileURLToPath(new URL('./__fixtures__/download-child.ts', import.meta.url));
const loadChild = fileURLToPath(new URL('./__fixtures__/load-child.ts', import.meta.url));
const REPO = 'ortvision/vit-cls';
const folder = fixturePath('vit-cls');
const MODEL = 'onnx/model.onnx';
const LOAD = ['config.json', 'preprocessor_config.json', MODEL];

let server: HubServer;
let cacheDir: string;
beforeEach(async () => {
  server = await HubServer.start({ repoId: REPO, folder });
  cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-procs-'));
});
afterEach(async () => {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const repoDir = () => join(cacheDir, repoFolderName(REPO));
const cdnGets = () => server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/'));

function node(script: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  return runChild(script, args, { env });
}

/** `count` processes loading the model at once; every one must succeed with the same intact files. */
async function loadTogether(count: number, env?: NodeJS.ProcessEnv): Promise<void> {
  server.barrier(count);
  const results = await Promise.allSettled(
    Array.from({ length: count }, () => node(loadChild, [server.endpoint, cacheDir, REPO, ...LOAD], env)),
  );
  const failures = results.flatMap((result) => (result.status === 'rejected' ? [String(result.reason)] : []));
  expect(failures).toEqual([]);
  const outputs = results.map(
    (result) => (result as PromiseFulfilledResult<{ stdout: string }>).value.stdout,
  );
  const expected = Object.fromEntries(
    LOAD.map((file) => [file, join(repoDir(), 'snapshots', server.commit, ...file.split('/'))]),
  );
  for (const output of outputs) expect(JSON.parse(output)).toEqual(expected);
  for (const file of LOAD) expect(readFileSync(expected[file]!)).toEqual(readFileSync(join(folder, file)));
  const blobs = readdirSync(join(repoDir(), 'blobs')).sort();
  expect(blobs).toEqual(
    [server.gitSha1('config.json'), server.gitSha1('preprocessor_config.json'), server.sha256(MODEL)].sort(),
  );
  expect(readFileSync(join(repoDir(), 'refs', 'main'), 'utf8')).toBe(server.commit);
}

describe('processes loading one model at once', () => {
  it('two processes downloading the same file leave one intact blob, downloaded once', async () => {
    const args = [server.endpoint, cacheDir, REPO, MODEL];
    const results = await Promise.all([0, 1].map(() => node(downloadChild, args)));
    const paths = results.map((result) => result.stdout.trim());
    expect(paths[0]).toBe(paths[1]);
    expect(readFileSync(paths[0]!)).toEqual(readFileSync(join(folder, MODEL)));
    expect(readdirSync(join(repoDir(), 'blobs'))).toEqual([server.sha256(MODEL)]);
    // The lock let one of them download; the other found the finished blob.
    expect(cdnGets()).toHaveLength(1);
  });

  it('4 processes on a cold cache all load it', async () => {
    await loadTogether(4);
    expect(cdnGets()).toHaveLength(1);
  });

  it('8 processes on a cold cache all load it', async () => {
    await loadTogether(8);
    expect(cdnGets()).toHaveLength(1);
  });

  it('without flock (ORTVISION_HUB_LOCK=none), 4 processes still all load it, leaving no partial file', async () => {
    await loadTogether(4, { ...process.env, ORTVISION_HUB_LOCK: 'none' });
    // Each may have downloaded it: that is the price of no lock, never a broken blob.
    expect(cdnGets().length).toBeGreaterThanOrEqual(1);
  });

  it('callers that find the snapshot entry made never see it removed or replaced', async () => {
    // A link made again (deleted, then created) gets a new change time, even where the inode number is reused.
    const identity = (path: string) => {
      const info = lstatSync(path, { bigint: true });
      return `${info.ino} ${info.ctimeNs}`;
    };
    const seen: string[] = [];
    const options = { endpoint: server.endpoint, cacheDir, retryDelayMs: 5 };
    await Promise.all(
      Array.from({ length: 4 }, () =>
        hubDownload(REPO, MODEL, options).then((path) => seen.push(identity(path!))),
      ),
    );
    await hubDownload(REPO, MODEL, options);
    seen.push(identity(join(repoDir(), 'snapshots', server.commit, ...MODEL.split('/'))));
    expect(new Set(seen).size).toBe(1);
  });
});

/** Whether python3 with fcntl is here, and whether it has huggingface_hub. */
const python = await run('python3', ['-c', 'import fcntl'])
  .then(() => true)
  .catch(() => false);
const huggingfaceHub = await run('python3', [
  '-c',
  'import huggingface_hub; print(huggingface_hub.__version__)',
])
  .then(({ stdout }) => stdout.trim())
  .catch(() => undefined);

describe('sharing the cache with Python at the same time', () => {
  it.skipIf(!python)(
    "waits while a Python process holds huggingface_hub's lock on the blob, then finds the blob it stored",
    async () => {
      const etag = server.sha256(MODEL);
      const lock = join(cacheDir, '.locks', repoFolderName(REPO), `${etag}.lock`);
      const blob = join(repoDir(), 'blobs', etag);
      await mkdir(join(cacheDir, '.locks', repoFolderName(REPO)), { recursive: true });
      await mkdir(join(repoDir(), 'blobs'), { recursive: true });
      // What hf_hub_download does under FileLock(<etag>.lock): write <blob>.incomplete, then move it to <blob>.
      const script = [
        'import fcntl, os, shutil, sys, time',
        'lock, source, blob = sys.argv[1:4]',
        'fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)',
        'fcntl.flock(fd, fcntl.LOCK_EX)',
        'print("locked", flush=True)',
        'data = open(source, "rb").read()',
        'with open(blob + ".incomplete", "ab") as partial:',
        '  partial.write(data[: len(data) // 2]); partial.flush(); time.sleep(0.4)',
        '  partial.write(data[len(data) // 2 :])',
        'os.replace(blob + ".incomplete", blob)',
        'fcntl.flock(fd, fcntl.LOCK_UN)',
      ].join('\n');
      const holder = spawn('python3', ['-c', script, lock, join(folder, MODEL), blob], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const closed = new Promise((resolve) => holder.once('close', resolve));
      await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
      const path = await hubDownload(REPO, MODEL, { endpoint: server.endpoint, cacheDir, retryDelayMs: 5 });
      await closed;
      expect(readFileSync(path!)).toEqual(readFileSync(join(folder, MODEL)));
      // It did not download into Python's .incomplete at the same time: it waited and used Python's blob.
      expect(cdnGets()).toEqual([]);
      expect(existsSync(`${blob}.incomplete`)).toBe(false);
    },
  );

  it.skipIf(huggingfaceHub === undefined)(
    `hf_hub_download and ortvision download into one cache at once${huggingfaceHub ? ` (huggingface_hub ${huggingfaceHub})` : ' (skipped: python3 has no huggingface_hub; pip install huggingface_hub to run it)'}`,
    async () => {
      const script = [
        'import sys',
        'from huggingface_hub import hf_hub_download',
        'print(hf_hub_download(sys.argv[1], sys.argv[2], cache_dir=sys.argv[3]))',
      ].join('\n');
      const env = { ...process.env, HF_ENDPOINT: server.endpoint, HF_HUB_DISABLE_TELEMETRY: '1' };
      const [python, ours] = await Promise.all([
        run('python3', ['-c', script, REPO, MODEL, cacheDir], { env, timeout: 60_000 }),
        hubDownload(REPO, MODEL, { endpoint: server.endpoint, cacheDir, retryDelayMs: 5 }),
      ]);
      expect(python.stdout.trim()).toBe(ours);
      expect(readFileSync(ours!)).toEqual(readFileSync(join(folder, MODEL)));
      expect(readdirSync(join(repoDir(), 'blobs'))).toEqual([server.sha256(MODEL)]);
    },
  );
});
