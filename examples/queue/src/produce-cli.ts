#!/usr/bin/env node
import { readdirSync } from 'node:fs';
import { InvalidArgumentError } from '@ortvision/core';
import { repoFixture, resolveInput, resolveModel, runCli } from '@ortvision/example-shared';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { defaultRedisUrl, jsonFlag, parseFlags } from './args.js';
import type { JsonValue, TaskJob } from './job.js';
import { awaitResults, enqueueJobs } from './producer.js';
import { DEFAULT_RESULT_TTL_SECONDS } from './results.js';

const usage = `usage: pnpm example:queue [image...] [--task imageClassification] [--model <hub id or folder>]
  [--args JSON] [--options JSON] [--revision R] [--redis redis://host:6379] [--queue ortvision] [--no-wait]

Enqueues one job per image (a path every worker machine can read, or an http(s): URL) for workers started with
pnpm example:queue-worker, then prints each result as one JSON line as it arrives (progress on stderr); exits 1 if a
job failed. --no-wait prints the job ids and returns. --args are the task's arguments after the image (JSON list:
'[["a cat","a remote"]]' for zeroShotObjectDetection), --options its options (JSON object: '{"topK":3}').
Defaults: the handwritten-digit ViT and the 30 digit images shipped in this repository.`;

const defaultImages = () => {
  const folder = repoFixture('images', 'digits');
  return readdirSync(folder)
    .sort()
    .map((name) => `${folder}/${name}`);
};

async function main(argv: string[]): Promise<void> {
  const { flags, switches, positional } = parseFlags(
    argv,
    ['task', 'model', 'args', 'options', 'revision', 'redis', 'queue'],
    ['no-wait'],
  );
  const images = positional.length > 0 ? positional.map(resolveInput) : defaultImages();
  const task = flags.task ?? 'imageClassification';
  const model = resolveModel(flags.model ?? repoFixture('vit-digits'));
  const args = jsonFlag<JsonValue[]>(flags, 'args', 'array');
  const options = jsonFlag<Record<string, JsonValue>>(flags, 'options', 'object');
  if (flags.revision === '') throw new InvalidArgumentError('--revision needs a value');
  const jobs: TaskJob[] = images.map((image) => ({
    task,
    model,
    image,
    ...(args ? { args } : {}),
    ...(options ? { options } : {}),
    ...(flags.revision ? { revision: flags.revision } : {}),
  }));
  const redisUrl = flags.redis ?? defaultRedisUrl();
  const queueName = flags.queue ?? 'ortvision';
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const events = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const connection of [redis, events]) connection.on('error', () => {});
  const queue = new Queue(queueName, { connection: redis });
  try {
    const ids = await enqueueJobs(queue, jobs);
    if (switches.has('no-wait')) {
      console.log(JSON.stringify({ queue: queueName, jobs: ids }));
      return;
    }
    let failures = 0;
    const store = { prefix: 'bull', queue: queueName, ttlSeconds: DEFAULT_RESULT_TTL_SECONDS };
    for await (const result of awaitResults(redis, store, ids, {
      events,
      onProgress: ({ done, failed, total, perSecond }) =>
        process.stderr.write(`\r${done}/${total} done, ${failed} failed, ${perSecond.toFixed(1)} images/s  `),
    })) {
      if (!result.ok) failures++;
      console.log(JSON.stringify(result));
    }
    process.stderr.write('\n');
    if (failures > 0) process.exitCode = 1;
  } finally {
    await queue.close();
    redis.disconnect();
    events.disconnect();
  }
}

await runCli(usage, main);
