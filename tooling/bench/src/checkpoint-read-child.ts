// Indexes one checkpoint and reads every weight, one at a time, in a fresh process, then prints
// { indexMs, readMs, weights, bytes, baselineRssMiB, peakRssMiB } as one JSON line. A process of its own, so
// that its peak RSS is the reader's alone, next to the baseline of the same process before opening anything.
// Usage: node --conditions=@ortvision/source --import tsx checkpoint-read-child.ts <checkpoint file>
import { openCheckpoint } from '@ortvision/core';
import { peakRssMiB } from './harness.js';

const rssMiB = () => Math.round((process.memoryUsage().rss / 1048576) * 10) / 10;
const file = process.argv[2]!;
const baselineRssMiB = rssMiB();
const start = performance.now();
const checkpoint = await openCheckpoint([file]);
const indexed = performance.now();
let bytes = 0;
for (const key of checkpoint.keys()) bytes += (await checkpoint.read(key)).data.byteLength;
const readMs = performance.now() - indexed;
await checkpoint.close();
const weights = checkpoint.keys().length;
process.stdout.write(
  `${JSON.stringify({ indexMs: indexed - start, readMs, weights, bytes, baselineRssMiB, peakRssMiB: peakRssMiB() })}\n`,
);
