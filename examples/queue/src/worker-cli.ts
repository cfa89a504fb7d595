#!/usr/bin/env node
import { DEFAULT_POOL_WORKERS } from '@ortvision/core';
import { choiceFlag, devices, numberFlag, runCli } from '@ortvision/example-shared';
import { defaultRedisUrl, parseFlags } from './args.js';
import { startQueueWorker } from './worker.js';

const usage = `usage: pnpm example:queue-worker [--redis redis://host:6379] [--queue ortvision] [--workers N]
  [--threads-per-worker N] [--calls-per-worker N] [--concurrency N] [--device cpu|cuda|auto] [--max-models N]
  [--lock-ms 30000] [--stalled-ms 30000] [--max-stalled 2] [--result-ttl seconds]

Takes jobs from the queue on Redis and runs them: each job's model is loaded once into a pool of --workers worker
threads (default ${DEFAULT_POOL_WORKERS}; ONNX Runtime's threads split between them, or --threads-per-worker) and kept for the next
job. Start one on each machine with the same --redis (or $REDIS_URL). Logs one JSON line per event on stdout.
Stops cleanly on SIGTERM / SIGINT (running jobs finish first).`;

const integer = (flags: Record<string, string>, name: string) => {
  const value = numberFlag(flags, name, Number.NaN, { min: 1, integer: true });
  return Number.isNaN(value) ? undefined : value;
};

async function main(argv: string[]): Promise<void> {
  const { flags } = parseFlags(argv, [
    'redis',
    'queue',
    'workers',
    'threads-per-worker',
    'calls-per-worker',
    'concurrency',
    'device',
    'max-models',
    'lock-ms',
    'stalled-ms',
    'max-stalled',
    'result-ttl',
  ]);
  const worker = await startQueueWorker({
    redisUrl: flags.redis ?? defaultRedisUrl(),
    queue: flags.queue ?? 'ortvision',
    workers: integer(flags, 'workers'),
    threadsPerWorker: integer(flags, 'threads-per-worker'),
    callsPerWorker: integer(flags, 'calls-per-worker'),
    concurrency: integer(flags, 'concurrency'),
    device: choiceFlag('device', flags.device ?? 'cpu', devices),
    maxModels: integer(flags, 'max-models'),
    lockDurationMs: integer(flags, 'lock-ms'),
    stalledIntervalMs: integer(flags, 'stalled-ms'),
    maxStalledCount: integer(flags, 'max-stalled'),
    resultTtlSeconds: integer(flags, 'result-ttl'),
  });
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  await worker.close();
}

await runCli(usage, main);
