import { AbortedError, type MapProgress } from '@ortvision/core';
import { type JobsOptions, type Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { type TaskJob, checkJob } from './job.js';
import { type ResultStore, type StoredResult, readResults } from './results.js';

/**
 * Each job's options: 3 attempts for failures worth retrying (a download that failed; a bad input fails at once),
 * and the finished jobs' records trimmed (the results are kept apart, see results.ts).
 */
export const DEFAULT_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { count: 10_000 },
  removeOnFail: { count: 10_000 },
};

/** Adds the jobs (each checked first) and returns their ids, in order. */
export async function enqueueJobs(
  queue: Queue,
  jobs: readonly TaskJob[],
  options: JobsOptions = DEFAULT_JOB_OPTIONS,
): Promise<string[]> {
  const checked = jobs.map(checkJob);
  const added = await queue.addBulk(checked.map((data) => ({ name: data.task, data, opts: options })));
  return added.map((job) => job.id!);
}

export interface AwaitResultsOptions {
  /** A connection for BullMQ's event stream (it blocks: not the one `redis` is). */
  events: Redis;
  /** How often every pending job is looked up, besides the completion events, in ms (default 2000). */
  sweepMs?: number;
  onProgress?: (progress: MapProgress) => void;
  /** Stops waiting with `AbortedError` (the jobs go on). */
  signal?: AbortSignal;
}

/**
 * The results of these jobs as they finish (completion order), each once: woken by BullMQ's completion events, and
 * a periodic look at every pending job so that an event missed while Redis restarted loses nothing. A job that failed
 * without a stored result (it stalled too often) comes as a failure with BullMQ's reason.
 */
export async function* awaitResults(
  redis: Redis,
  store: ResultStore,
  jobIds: readonly string[],
  { events: eventsConnection, sweepMs = 2000, onProgress, signal }: AwaitResultsOptions,
): AsyncGenerator<StoredResult> {
  const pending = new Set(jobIds);
  const announced = new Set<string>();
  const failedReasons = new Map<string, string>();
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const events = new QueueEvents(store.queue, { connection: eventsConnection, prefix: store.prefix });
  events.on('error', () => {}); // reconnects on its own
  events.on('completed', ({ jobId }) => {
    if (pending.has(jobId)) announced.add(jobId);
    notify();
  });
  events.on('failed', ({ jobId, failedReason }) => {
    if (!pending.has(jobId)) return;
    announced.add(jobId);
    failedReasons.set(jobId, failedReason);
    notify();
  });
  signal?.addEventListener('abort', notify);
  let lastSweep = 0;
  try {
    await events.waitUntilReady();
    while (pending.size > 0) {
      if (signal?.aborted) throw new AbortedError('waiting for the results was aborted (the jobs go on)');
      const sweep = performance.now() - lastSweep >= sweepMs;
      const ids = sweep ? [...pending] : [...announced];
      announced.clear();
      if (sweep) lastSweep = performance.now();
      for (let i = 0; i < ids.length; i += 1000) {
        const chunk = ids.slice(i, i + 1000);
        const found = await readResults(redis, store, chunk);
        for (const [j, result] of found.entries()) {
          const jobId = chunk[j]!;
          const reason = failedReasons.get(jobId);
          const outcome: StoredResult | undefined =
            result ??
            (reason === undefined
              ? undefined
              : {
                  jobId,
                  image: '',
                  worker: '',
                  ms: 0,
                  ok: false,
                  error: { name: 'Error', message: reason },
                });
          if (!outcome || !pending.delete(jobId)) continue;
          done++;
          if (!outcome.ok) failed++;
          const elapsedMs = performance.now() - started;
          onProgress?.({
            done,
            failed,
            total: jobIds.length,
            elapsedMs,
            perSecond: (done * 1000) / elapsedMs,
          });
          yield outcome;
        }
      }
      if (pending.size === 0 || announced.size > 0) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(notify, Math.max(10, sweepMs - (performance.now() - lastSweep)));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    signal?.removeEventListener('abort', notify);
    await events.close();
  }
}
