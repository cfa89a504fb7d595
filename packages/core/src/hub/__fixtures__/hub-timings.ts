// Times the Hub loader in the situations issue #16 names, against the local Hub stand-in, with default settings:
// a warm cache while the Hub is down (connections refused) and while it is black-holed (connections accepted, never
// answered), and a cold cache loaded by 4 and by 8 processes at once. A "load" is what a ViT model and its processor
// read: config.json, preprocessor_config.json and onnx/model.onnx.
//
//   node --import tsx packages/core/src/hub/__fixtures__/hub-timings.ts
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturePath } from '../../testing/fixtures.js';
import { HubServer, closedEndpoint } from '../../testing/hub-server.js';
import { resolveModelFiles } from '../resolve.js';
import { childArgs } from './node-child.js';

const REPO = 'ortvision/vit-cls';
const LOAD = ['config.json', 'preprocessor_config.json', 'onnx/model.onnx'];
const loadChild = fileURLToPath(new URL('./load-child.ts', import.meta.url));

async function time(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/**
 * `count` processes loading at once into an empty cache, started first and then released together: the time from
 * their release until all are done, and each one's load.
 */
async function coldCache(server: HubServer, count: number): Promise<{ wall: number; loads: number[] }> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-timings-'));
  const go = join(cacheDir, 'go');
  const args = [...(await childArgs(loadChild)), server.endpoint, cacheDir, REPO, ...LOAD];
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ORTVISION_GO_FILE: go },
    }),
  );
  const outputs = children.map((child) => {
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const ready = new Promise<void>((resolve) => child.stderr.once('data', () => resolve()));
    const done = new Promise<string>((resolve, reject) =>
      child.once('close', (code) =>
        code === 0 ? resolve(stderr) : reject(new Error(`a load failed: ${stderr}`)),
      ),
    );
    return { ready, done };
  });
  await Promise.all(outputs.map((output) => output.ready));
  const wall = await time(async () => {
    await writeFile(go, '');
    await Promise.all(outputs.map((output) => output.done));
  });
  const loads = await Promise.all(
    outputs.map(async (output) => Number(/load-ms (\d+)/.exec(await output.done)?.[1])),
  );
  await rm(cacheDir, { recursive: true, force: true });
  return { wall, loads: loads.sort((a, b) => a - b) };
}

process.removeAllListeners('warning'); // the fallbacks' warnings are expected here
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const server = await HubServer.start({ repoId: REPO, folder: fixturePath('vit-cls') });
const cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-timings-'));
const rows: [string, string][] = [];
try {
  await resolveModelFiles(REPO, LOAD, { endpoint: server.endpoint, cacheDir });
  rows.push([
    'warm cache, Hub up',
    seconds(await time(() => resolveModelFiles(REPO, LOAD, { endpoint: server.endpoint, cacheDir }))),
  ]);
  const down = await closedEndpoint();
  rows.push([
    'warm cache, Hub down (refused)',
    seconds(await time(() => resolveModelFiles(REPO, LOAD, { endpoint: down, cacheDir }))),
  ]);
  server.blackHole = true;
  rows.push([
    'warm cache, Hub black-holed (default 10 s timeout)',
    seconds(await time(() => resolveModelFiles(REPO, LOAD, { endpoint: server.endpoint, cacheDir }))),
  ]);
  server.blackHole = false;
  for (const count of [4, 8]) {
    const { wall, loads } = await coldCache(server, count);
    rows.push([
      `cold cache, ${count} processes at once`,
      `${seconds(wall)} until all are done; each load ${loads.join(', ')} ms`,
    ]);
  }
} finally {
  await server.close();
  await rm(cacheDir, { recursive: true, force: true });
}
for (const [what, result] of rows) console.log(`| ${what} | ${result} |`);
