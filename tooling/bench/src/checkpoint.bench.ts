import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readWeightsShapes, writeRandomCheckpoint } from '@ortvision/core/testing';
import { type Suite, type SuiteResult, median, peakRssMiB, round, samplesResult } from './harness.js';

// Reading a full-size checkpoint: a random one written from the bench model's weights-shapes.json (AltCLIP,
// 3.5 GB of float32; LeViT-256 in quick mode), as model.safetensors and as a torch.save zip (pytorch_model.bin).
// Each read runs in a fresh process that indexes the file and reads every weight one at a time; the goal is a
// peak RSS of about one weight over the process's baseline, whatever the checkpoint's size. The files go to a
// temporary folder and are deleted afterwards.

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);

interface ReadRun {
  indexMs: number;
  readMs: number;
  weights: number;
  bytes: number;
  baselineRssMiB: number;
  peakRssMiB: number;
}

async function readInChild(file: string): Promise<ReadRun> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--conditions=@ortvision/source', '--import', 'tsx', join(here, 'checkpoint-read-child.ts'), file],
    { cwd: here, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ReadRun;
}

export const run: Suite = async ({ quick }) => {
  const model = quick ? 'facebook/levit-256' : 'BAAI/AltCLIP';
  const shapes = await readWeightsShapes(join(here, '..', 'models', model, 'weights-shapes.json'));
  const largest = Object.values(shapes.tensors).reduce(
    (max, { shape }) => Math.max(max, shape.reduce((a, b) => a * b, 1) * 4),
    0,
  );
  const runs = quick ? 1 : 3;
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-bench-checkpoint-'));
  const results: SuiteResult[] = [];
  try {
    for (const [format, name] of [
      ['safetensors', 'model.safetensors'],
      ['pytorch', 'pytorch_model.bin'],
    ] as const) {
      const file = join(dir, name);
      const writeStart = performance.now();
      await writeRandomCheckpoint(file, shapes, { format, seed: 0 });
      const writeMs = performance.now() - writeStart;
      const size = (await stat(file)).size;
      const reads: ReadRun[] = [];
      for (let i = 0; i < runs; i++) reads.push(await readInChild(file));
      await rm(file);
      const last = reads.at(-1)!;
      results.push({
        suite: 'checkpoint',
        case: `${model} ${name} (${round(size / 1e9)} GB, ${last.weights} weights, random)`,
        iterations: runs,
        variants: [
          samplesResult(
            'index (open)',
            reads.map((r) => r.indexMs),
          ),
          samplesResult(
            'read every weight',
            reads.map((r) => r.readMs),
          ),
          samplesResult('write (random, lazily)', [writeMs]),
        ],
        peakRssMiB: peakRssMiB(),
        ratios: {
          'reader peak RSS, MiB': median(reads.map((r) => r.peakRssMiB)),
          'reader baseline RSS before opening, MiB': median(reads.map((r) => r.baselineRssMiB)),
          'largest weight, MiB': round(largest / 1048576),
          'read throughput, GB/s': round(last.bytes / 1e9 / (median(reads.map((r) => r.readMs)) / 1000)),
        },
        notes: [
          'each read in a fresh node process (tsx); the file is in the page cache after writing, so this is the reader, not the disk',
          'peak RSS - baseline should stay near the largest weight (one weight in memory at a time)',
        ],
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
};
