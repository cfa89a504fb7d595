import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LabelScore } from '@ortvision/core';
import { fixtureImagePath, fixturePath } from '@ortvision/core/testing';
import { imageClassification } from '@ortvision/vit';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskJob } from './job.js';
import { awaitResults, enqueueJobs } from './producer.js';
import { type RedisServer, findRedisServer, startRedisServer } from './redis-server.js';
import type { ResultStore, StoredResult } from './results.js';
import type { WorkerEvent } from './worker.js';

// The queue for real: redis-server as a child process, worker processes started as a user starts them (the CLI), the
// digits ViT of the fixtures. Images come from a local HTTP server that answers after 30 ms, so that every job is
// still running for a while after its worker said it started: a worker killed then is killed mid-job.

const src = dirname(fileURLToPath(import.meta.url));
const DIGITS = fixturePath('vit-digits');
const redisServer = findRedisServer();
const IMAGE_DELAY_MS = 30;
const sessionOptions = { intraOpNumThreads: 1 };

interface WorkerProcess {
  readonly child: ChildProcess;
  readonly events: WorkerEvent[];
  /** Jobs started and not done or failed. */
  readonly running: Set<string>;
  id?: string;
  ready: Promise<void>;
}

function startWorker(url: string, queue: string, onEvent: () => void): WorkerProcess {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@ortvision/source',
      '--import',
      'tsx',
      join(src, 'worker-cli.ts'),
      '--redis',
      url,
      '--queue',
      queue,
      '--workers',
      '1',
      '--threads-per-worker',
      String(sessionOptions.intraOpNumThreads),
      // Short locks: a dead worker's jobs are back in the queue within ~3 s instead of BullMQ's default 30 s.
      '--lock-ms',
      '2000',
      '--stalled-ms',
      '1000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const worker: WorkerProcess = { child, events: [], running: new Set(), ready: Promise.resolve() };
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  worker.ready = new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited (code ${code}) before ready: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as WorkerEvent;
      worker.events.push(event);
      worker.id = event.worker;
      if (event.event === 'ready') resolve();
      if (event.event === 'start') worker.running.add(event.job);
      if (event.event === 'done' || event.event === 'failed') worker.running.delete(event.job);
      onEvent();
    });
  });
  return worker;
}

/** Serves the fixture digits over HTTP after a delay (and counts the requests per path). */
async function startImageServer(): Promise<{ server: Server; url: (name: string, n: number) => string }> {
  const folder = fixtureImagePath('digits');
  const server = createServer(async (request, response) => {
    const name = new URL(request.url!, 'http://x').pathname.slice(1);
    await new Promise((resolve) => setTimeout(resolve, IMAGE_DELAY_MS));
    try {
      const bytes = await readFile(join(folder, name));
      response.writeHead(200, { 'content-type': 'image/png' }).end(bytes);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: (name, n) => `http://127.0.0.1:${port}/${name}?n=${n}` };
}

function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

// .ci/run installs redis-server: in CI the queue's test must run, not skip.
it.runIf(!redisServer && process.env.CI === 'true')('has redis-server in CI', () => {
  expect(redisServer, 'redis-server is not on PATH: .ci/run should have installed it').toBeDefined();
});

describe.skipIf(!redisServer)(
  `the queue on a real Redis${redisServer ? '' : ' (skipped: redis-server is not installed: apt-get install redis-server)'}`,
  () => {
    let redis: RedisServer;
    let images: Awaited<ReturnType<typeof startImageServer>>;
    const names: string[] = [];
    /** The sequential run: each digit classified in this process, one after the other. */
    const expected = new Map<string, LabelScore[]>();
    const workers: WorkerProcess[] = [];
    const connections: Redis[] = [];
    const connect = () => {
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      connections.push(connection);
      return connection;
    };

    beforeAll(async () => {
      redis = await startRedisServer();
      images = await startImageServer();
      names.push(...(await readdir(fixtureImagePath('digits'))).sort());
      const classify = await imageClassification(DIGITS, { sessionOptions });
      for (const name of names)
        expected.set(name, await classify(fixtureImagePath(`digits/${name}`), { topK: 3 }));
      await classify.dispose();
    });

    afterAll(async () => {
      for (const worker of workers) worker.child.kill('SIGKILL');
      for (const connection of connections) connection.disconnect();
      images?.server.close();
      await redis?.stop();
    });

    /** The digit a job's image URL names. */
    const digitOf = (image: string) => new URL(image).pathname.slice(1);

    it('3 workers, 200 jobs, one worker killed (SIGKILL) mid-job: every result stored exactly once, equal to a sequential run', async () => {
      const queueName = 'kill-test';
      const store: ResultStore = { prefix: 'bull', queue: queueName, ttlSeconds: 600 };
      let progress = () => {};
      const started = [0, 1, 2].map(() => startWorker(redis.url, queueName, () => progress()));
      workers.push(...started);
      await Promise.all(started.map((worker) => worker.ready));

      const jobs: TaskJob[] = Array.from({ length: 200 }, (_, n) => ({
        task: 'imageClassification',
        model: DIGITS,
        image: images.url(names[n % names.length]!, n),
        options: { topK: 3 },
      }));
      const connection = connect();
      const queue = new Queue(queueName, { connection });
      const ids = await enqueueJobs(queue, jobs);
      expect(new Set(ids).size).toBe(200);

      // Kill the first worker once 40 results are in, at a moment it is running a job (still fetching its image).
      const victim = started[0]!;
      const stored = () => started.flatMap((w) => w.events).filter((e) => e.event === 'done').length;
      let killedWhileRunning: string[] = [];
      const killed = new Promise<void>((resolve) => {
        progress = () => {
          if (killedWhileRunning.length === 0 && stored() >= 40 && victim.running.size > 0) {
            killedWhileRunning = [...victim.running];
            victim.child.kill('SIGKILL');
            resolve();
          }
        };
      });

      const results: StoredResult[] = [];
      for await (const result of awaitResults(connection, store, ids, { events: connect(), sweepMs: 500 })) {
        results.push(result);
      }
      await killed;

      // All 200 present, each once, each the sequential run's labels for its digit, bit for bit.
      expect(results.map((r) => r.jobId).sort()).toEqual([...ids].sort());
      for (const result of results) {
        expect(result.ok).toBe(true);
        if (result.ok) expect(result.result).toEqual(expected.get(digitOf(result.image)));
      }
      const keys = await connection.keys(`bull:${queueName}:result:*`);
      expect(keys.length).toBe(200);
      // Never stored twice: across every worker's log (the killed one's up to its death) one stored write per job.
      const writes = started.flatMap((w) => w.events).filter((e) => e.event === 'done' && e.stored);
      expect(writes.length).toBe(200);
      expect(new Set(writes.map((e) => (e as { job: string }).job)).size).toBe(200);
      // The jobs the victim was running were taken over by another worker.
      expect(killedWhileRunning.length).toBeGreaterThan(0);
      const byJob = new Map(results.map((r) => [r.jobId, r]));
      for (const job of killedWhileRunning) {
        expect(byJob.get(job)!.worker).not.toBe(victim.id);
      }
      // And BullMQ agrees: all completed, none failed.
      expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 200, failed: 0 });
      await queue.close();
      for (const worker of started.slice(1)) expect(worker.child.exitCode).toBeNull();
    }, 60_000);

    it('Redis restarted mid-run: the workers and the producer reconnect; a bad input fails with its typed error and the others go on', async () => {
      const queueName = 'restart-test';
      const started = [0, 1].map(() => startWorker(redis.url, queueName, () => {}));
      workers.push(...started);
      await Promise.all(started.map((worker) => worker.ready));
      const notAnImage = join(tmpdir(), `ortvision-queue-test-${process.pid}.txt`);
      await writeFile(notAnImage, 'not an image');
      const good = Array.from({ length: 60 }, (_, n) => images.url(names[n % names.length]!, n));
      const bad = [notAnImage, fixtureImagePath('digits/no-such-digit.png')];

      // The producer as a user runs it: enqueues, then prints one JSON line per result as it arrives.
      const producer = spawn(
        process.execPath,
        [
          '--conditions=@ortvision/source',
          '--import',
          'tsx',
          join(src, 'produce-cli.ts'),
          '--redis',
          redis.url,
          '--queue',
          queueName,
          '--model',
          DIGITS,
          '--options',
          '{"topK":3}',
          ...good.slice(0, 30),
          ...bad,
          ...good.slice(30),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INIT_CWD: '' } },
      );
      const lines: StoredResult[] = [];
      let restarted = false;
      let resultsBeforeRestart = 0;
      let restarting: Promise<void> | undefined;
      createInterface({ input: producer.stdout! }).on('line', (line) => {
        lines.push(JSON.parse(line) as StoredResult);
        if (lines.length >= 15 && !restarting) {
          resultsBeforeRestart = lines.length;
          restarting = redis.restart().then(() => {
            restarted = true;
          });
        }
      });
      let stderr = '';
      producer.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => producer.once('exit', resolve));
      await restarting;
      expect(restarted).toBe(true);
      expect(resultsBeforeRestart).toBeLessThan(40);
      expect(stderr).toContain('62/62 done, 2 failed');
      expect(code).toBe(1); // some job failed

      expect(lines.length).toBe(62);
      expect(new Set(lines.map((r) => r.jobId)).size).toBe(62);
      const failures = lines.filter((r) => !r.ok);
      expect(failures.map((r) => (r.ok ? undefined : [r.image, r.error]))).toEqual(
        expect.arrayContaining([
          [
            notAnImage,
            {
              name: 'InvalidImageError',
              message: `cannot decode "${notAnImage}": unsupported format (expected JPEG, PNG, WebP, AVIF, GIF, TIFF)`,
            },
          ],
          [bad[1], { name: 'InvalidImageError', message: `cannot read image "${bad[1]}": no such file` }],
        ]),
      );
      for (const result of lines.filter((r) => r.ok)) {
        if (result.ok) expect(result.result).toEqual(expected.get(digitOf(result.image)));
      }
      // BullMQ failed those jobs with the typed error's name and message, and did not retry them.
      const queue = new Queue(queueName, { connection: connect() });
      for (const failure of failures) {
        const job = await queue.getJob(failure.jobId);
        if (!failure.ok) expect(job!.failedReason).toBe(`${failure.error.name}: ${failure.error.message}`);
        expect(job!.attemptsMade).toBe(1);
      }
      await queue.close();
      // Both workers saw Redis go and come back, and are still running.
      for (const worker of started) {
        const states = worker.events.filter((e) => e.event === 'connection').map((e) => e.state);
        expect(states).toContain('reconnecting');
        expect(states.lastIndexOf('ready')).toBeGreaterThan(states.indexOf('reconnecting'));
        expect(worker.child.exitCode).toBeNull();
      }
    }, 60_000);
  },
);
