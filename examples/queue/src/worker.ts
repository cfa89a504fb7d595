import { hostname } from 'node:os';
import {
  AbortedError,
  DisposedError,
  DownloadError,
  OrtVisionError,
  type TaskWorkerPoolOptions,
} from '@ortvision/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { checkJob } from './job.js';
import { PoolCache, type PoolSettings } from './pools.js';
import { type ResultStore, type StoredResult, readResults, resultToJson, storeResult } from './results.js';

export interface QueueWorkerOptions extends PoolSettings {
  /** `redis://host:port` (the same for the producer and every worker). */
  redisUrl: string;
  /** The queue's name (default `ortvision`). */
  queue?: string;
  /** Jobs this process runs at once (default: pool workers x calls per worker, so that the pool stays busy). */
  concurrency?: number;
  /**
   * How long a job's lock lasts without renewal, in ms (BullMQ's default 30 s). A worker renews it every half of it
   * while the job runs (the pool's worker threads leave this thread free to); when a worker dies, its jobs go back to
   * the queue at the next stalled check after the lock has run out.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died, in ms (BullMQ's default 30 s). */
  stalledIntervalMs?: number;
  /** How often a job may be recovered from a dead worker before it fails (default 2). */
  maxStalledCount?: number;
  /** How long results are kept in Redis, in seconds. */
  resultTtlSeconds?: number;
  /** One line per event (`ready`, `start`, `done`, `failed`); default: JSON lines on stdout. */
  log?: (event: WorkerEvent) => void;
}

/** What a worker reports, one event per line. */
export type WorkerEvent =
  | { event: 'ready'; worker: string; queue: string }
  | { event: 'start'; worker: string; job: string }
  | { event: 'done'; worker: string; job: string; stored: boolean; ms: number }
  | { event: 'failed'; worker: string; job: string; error: string; final: boolean }
  | { event: 'connection'; worker: string; state: string };

/** Errors worth another attempt (a download that failed, a pool stopped while this process shuts down). */
function isTransient(error: unknown): boolean {
  return (
    !(error instanceof OrtVisionError) ||
    error instanceof DownloadError ||
    error instanceof AbortedError ||
    error instanceof DisposedError
  );
}

/**
 * A worker process's side of the queue: takes jobs from Redis, runs each with the pool for its task and model (loaded
 * once, kept for the next job), stores each result once, and fails a job whose input is bad with the typed error's
 * name and message (no retry: it would fail the same way), while the other jobs go on. Redis going away and coming
 * back is waited out (ioredis reconnects; commands wait for it).
 *
 * @example
 * const worker = await startQueueWorker({ redisUrl: 'redis://10.0.0.5:6379', workers: 2 });
 * process.on('SIGTERM', () => worker.close());
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<{ close(): Promise<void> }> {
  const queue = options.queue ?? 'ortvision';
  const id = `${hostname()}:${process.pid}`;
  const log = options.log ?? ((event: WorkerEvent) => process.stdout.write(`${JSON.stringify(event)}\n`));
  const store: ResultStore = {
    prefix: 'bull',
    queue,
    ttlSeconds: options.resultTtlSeconds ?? 7 * 24 * 3600,
  };
  const poolOptions: TaskWorkerPoolOptions = {};
  if (options.workers !== undefined) poolOptions.workers = options.workers;
  if (options.threadsPerWorker !== undefined) poolOptions.threadsPerWorker = options.threadsPerWorker;
  if (options.callsPerWorker !== undefined) poolOptions.callsPerWorker = options.callsPerWorker;
  const pools = new PoolCache({ ...poolOptions, device: options.device, maxModels: options.maxModels });
  // maxRetriesPerRequest: null makes a command wait while Redis is away instead of failing: a result written during
  // a Redis restart lands once it is back.
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {}); // reconnecting is ioredis's job; the 'connection' events say what happens
  for (const state of ['ready', 'reconnecting', 'end'] as const) {
    redis.on(state, () => log({ event: 'connection', worker: id, state }));
  }

  const run = async (job: Job): Promise<{ stored: boolean }> => {
    const jobId = job.id!;
    log({ event: 'start', worker: id, job: jobId });
    // A worker that died after storing the result but before BullMQ heard of it: the result is there, done.
    const [existing] = await readResults(redis, store, [jobId]);
    if (existing) {
      log({ event: 'done', worker: id, job: jobId, stored: false, ms: 0 });
      return { stored: false };
    }
    const started = performance.now();
    const image = typeof job.data?.image === 'string' ? job.data.image : String(job.data?.image);
    try {
      const task = checkJob(job.data);
      const value = await pools.with(task, (pool) =>
        pool.run(task.image, ...(task.args ?? []), task.options ?? {}),
      );
      const ms = Math.round(performance.now() - started);
      const result: StoredResult = {
        jobId,
        image,
        worker: id,
        ms,
        ok: true,
        result: await resultToJson(value),
      };
      const stored = await storeResult(redis, store, result);
      log({ event: 'done', worker: id, job: jobId, stored, ms });
      return { stored };
    } catch (error) {
      const final = !isTransient(error) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const { name, message } = error instanceof Error ? error : new Error(String(error));
      log({ event: 'failed', worker: id, job: jobId, error: `${name}: ${message}`, final });
      if (!final) throw error;
      const ms = Math.round(performance.now() - started);
      await storeResult(redis, store, { jobId, image, worker: id, ms, ok: false, error: { name, message } });
      // BullMQ retries a failed job up to its attempts; a bad input would fail the same way every time.
      throw new UnrecoverableError(`${name}: ${message}`);
    }
  };

  const concurrency = options.concurrency ?? (poolOptions.workers ?? 1) * (poolOptions.callsPerWorker ?? 2);
  const connection = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', () => {});
  const worker = new Worker(queue, run, {
    connection,
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: options.maxStalledCount ?? 2,
  });
  worker.on('error', () => {}); // connection errors while Redis restarts: BullMQ retries on its own
  await worker.waitUntilReady();
  log({ event: 'ready', worker: id, queue });
  return {
    async close() {
      await worker.close();
      await pools.dispose();
      connection.disconnect();
      redis.disconnect();
    },
  };
}
