import { Image, Tensor } from '@ortvision/core';
import type { Redis } from 'ioredis';
import type { JsonValue } from './job.js';

// Results live in Redis, one key per job (`<prefix>:<queue>:result:<job id>`), written with SET NX: the first write
// of a job's result wins and any later one (a retried job whose first worker had already written it) changes
// nothing, so a result is stored once however many times its job ran. Redis rather than a results folder: workers
// on several machines and the producer share no disk, but they all share Redis; a key per job expires on its own.

/** What a job produced: its result as JSON, or the error it failed with; and where and how fast it ran. */
export type StoredResult = {
  jobId: string;
  /** The job's image, as given. */
  image: string;
  /** The worker process that ran it (`host:pid`). */
  worker: string;
  /** Time in the task call, in ms. */
  ms: number;
} & ({ ok: true; result: JsonValue } | { ok: false; error: { name: string; message: string } });

/** Where the results of a queue's jobs are kept. */
export interface ResultStore {
  /** Key prefix, as BullMQ's (`bull` by default). */
  prefix: string;
  /** The queue's name. */
  queue: string;
  /** How long a result is kept, in seconds. */
  ttlSeconds: number;
}

export const DEFAULT_RESULT_TTL_SECONDS = 7 * 24 * 3600;

export function resultKey(store: ResultStore, jobId: string): string {
  return `${store.prefix}:${store.queue}:result:${jobId}`;
}

/** Stores a job's result unless one is there already; true when this call stored it. */
export async function storeResult(redis: Redis, store: ResultStore, result: StoredResult): Promise<boolean> {
  const written = await redis.set(
    resultKey(store, result.jobId),
    JSON.stringify(result),
    'EX',
    store.ttlSeconds,
    'NX',
  );
  return written === 'OK';
}

/** The stored results of these jobs (undefined where there is none yet), in the same order. */
export async function readResults(
  redis: Redis,
  store: ResultStore,
  jobIds: readonly string[],
): Promise<(StoredResult | undefined)[]> {
  if (jobIds.length === 0) return [];
  const values = await redis.mget(...jobIds.map((id) => resultKey(store, id)));
  return values.map((value) => (value === null ? undefined : (JSON.parse(value) as StoredResult)));
}

/**
 * A task's result as JSON: labels, scores and boxes as they are; a `Tensor` (masks, features, flow) as
 * `{ type: 'tensor', dtype, dims, base64 }` (its bytes, little-endian); an `Image` (Mask2Former's masks) as
 * `{ type: 'image', width, height, png }` (base64 PNG).
 */
export async function resultToJson(value: unknown): Promise<JsonValue> {
  if (value instanceof Tensor) {
    const { buffer, byteOffset, byteLength } = value.data;
    const base64 = Buffer.from(buffer, byteOffset, byteLength).toString('base64');
    return { type: 'tensor', dtype: value.dtype, dims: [...value.dims], base64 };
  }
  if (value instanceof Image) {
    const png = (await value.toPng()).toString('base64');
    return { type: 'image', width: value.width, height: value.height, png };
  }
  if (value instanceof URL) return value.href;
  if (Array.isArray(value)) return Promise.all(value.map(resultToJson));
  if (typeof value === 'object' && value !== null) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([key, item]) => [key, await resultToJson(item)] as const),
    );
    return Object.fromEntries(entries);
  }
  if (typeof value === 'bigint') return value.toString();
  return (value ?? null) as JsonValue;
}
