import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../testing/fixtures.js';
import { HubServer } from '../testing/hub-server.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./__fixtures__/download-child.ts', import.meta.url));

describe('hubDownload across processes', () => {
  it('two processes downloading the same file leave one intact blob', async () => {
    const folder = fixturePath('vit-cls');
    const server = await HubServer.start({ repoId: 'ortvision/vit-cls', folder });
    const cacheDir = await mkdtemp(join(tmpdir(), 'ortvision-procs-'));
    try {
      const args = [child, server.endpoint, cacheDir, 'ortvision/vit-cls', 'onnx/model.onnx'];
      const results = await Promise.all(
        [0, 1].map(() =>
          run(process.execPath, ['--import', 'tsx', ...args], { cwd: process.cwd(), timeout: 30_000 }),
        ),
      );
      const paths = results.map((result) => result.stdout.trim());
      expect(paths[0]).toBe(paths[1]);
      expect(readFileSync(paths[0]!)).toEqual(readFileSync(join(folder, 'onnx', 'model.onnx')));
      const blobs = readdirSync(join(cacheDir, 'models--ortvision--vit-cls', 'blobs'));
      expect(blobs).toEqual([server.sha256('onnx/model.onnx')]);
      // The lock let one of them download; the other found the finished blob.
      expect(server.requests.filter((r) => r.method === 'GET' && r.url.startsWith('/cdn/')).length).toBe(1);
    } finally {
      await server.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
