import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { childArgs, runChild } from './__fixtures__/node-child.js';
import { acquireLock, lockKind } from './lock.js';

const run = promisify(execFile);
const lockChild = fileURLToPath(new URL('./__fixtures__/lock-child.ts', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const succeeds = (file: string, args: string[]) =>
  run(file, args)
    .then(() => true)
    .catch(() => false);
const hasFlock = await succeeds('sh', ['-c', 'command -v flock']);
const hasPerl = await succeeds('perl', ['-e', '1']);

/** Python's flock(LOCK_EX | LOCK_NB) on the file, as filelock's UnixFileLock tries it: 'acquired' or 'busy'. */
async function pythonTryLock(path: string): Promise<string> {
  const { stdout } = await run('python3', [
    '-c',
    [
      'import fcntl, os, sys',
      'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)',
      'try:\n  fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n  print("acquired")',
      'except BlockingIOError:\n  print("busy")',
    ].join('\n'),
    path,
  ]);
  return stdout.trim();
}

/** Whether python3 with fcntl is here (the Python side of filelock's UnixFileLock). */
const hasPython = await run('python3', ['-c', 'import fcntl'])
  .then(() => true)
  .catch(() => false);

/** The lines the children logged, without pids: "held locked" for each child that was alone holding the lock. */
function holders(log: string): string[] {
  return log
    .trim()
    .split('\n')
    .map((line) => line.replace(/ \d+ /, ' '));
}

/** `count` processes taking the lock at the same moment, each logging whether it held it alone. */
async function contend(lock: string, count: number, env = process.env): Promise<string> {
  const log = join(dir, 'held.log');
  await rm(log, { force: true });
  const args = await childArgs(lockChild);
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, [...args, lock, log, '30'], { stdio: ['ignore', 'pipe', 'inherit'], env }),
  );
  const exits = children.map((child) => new Promise((resolve) => child.once('close', resolve)));
  await Promise.all(children.map((child) => new Promise((resolve) => child.stdout!.once('data', resolve))));
  await writeFile(`${log}.go`, '');
  expect(await Promise.all(exits)).toEqual(Array(count).fill(0));
  return readFile(log, 'utf8');
}

/** With `kind`'s helper, 4 processes hold the lock one at a time, and Python's flock sees it held, then free. */
async function excludesWith(kind: 'flock' | 'perl'): Promise<void> {
  const env = { ...process.env, ORTVISION_HUB_LOCK: kind };
  const lock = join(dir, `${kind}.lock`);
  const log = await contend(lock, 4, env);
  expect(holders(log)).toEqual(Array(4).fill('held locked'));
  if (!hasPython) return;
  const holder = spawn(
    process.execPath,
    [...(await childArgs(lockChild)), lock, join(dir, 'solo'), '60000'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env,
    },
  );
  await writeFile(join(dir, 'solo.go'), '');
  // It holds the lock once it created its marker.
  while (!existsSync(join(dir, 'solo.holder'))) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(await pythonTryLock(lock)).toBe('busy');
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('close', resolve));
  // The helper notices its parent is gone and exits, and the kernel drops the lock.
  for (let i = 0; i < 100 && (await pythonTryLock(lock)) === 'busy'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(await pythonTryLock(lock)).toBe('acquired');
}

describe('acquireLock (flock, the lock huggingface_hub takes)', () => {
  it('finds flock(1) or perl on this machine', async () => {
    // CI and dev machines are Linux with util-linux: the fallback is only for machines without either.
    expect(['flock', 'perl']).toContain(await lockKind());
    expect(await lockKind({ ORTVISION_HUB_LOCK: 'none' })).toBe('none');
  });

  it('lets one holder in at a time within a process', async () => {
    const path = join(dir, 'x.lock');
    const order: string[] = [];
    const first = await acquireLock(path);
    const second = acquireLock(path).then((lock) => {
      order.push('second');
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    order.push('first releases');
    await first!.release();
    await (await second)!.release();
    expect(order).toEqual(['first releases', 'second']);
    // The lock file stays, as filelock's before 3.x leaves it: deleting it would let a waiter lock a dead file.
    expect(existsSync(path)).toBe(true);
  });

  it('8 processes on a lock file a dead process left: one holder at a time', async () => {
    const lock = join(dir, 'stale.lock');
    // What the O_EXCL lock of earlier versions left behind: a dead owner; it means nothing to flock.
    await writeFile(lock, JSON.stringify({ pid: 4194305, host: hostname() }));
    const log = await contend(lock, 8);
    expect(holders(log)).toEqual(Array(8).fill('held locked'));
  });

  it('a lock file naming a live, unrelated process does not block (pid reuse after a restart)', async () => {
    const lock = join(dir, 'reused.lock');
    await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname() }));
    const started = Date.now();
    const held = await acquireLock(lock);
    expect(Date.now() - started).toBeLessThan(2000);
    await held!.release();
  });

  it('a killed holder releases the lock at once', async () => {
    const lock = join(dir, 'killed.lock');
    const holder = spawn(
      process.execPath,
      [...(await childArgs(lockChild)), lock, join(dir, 'log'), '60000'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    holder.kill('SIGKILL');
    const started = Date.now();
    const held = await acquireLock(lock);
    expect(Date.now() - started).toBeLessThan(2000);
    await held!.release();
  });

  it('an abort while waiting stops waiting with the signal reason', async () => {
    const lock = join(dir, 'abort.lock');
    const first = await acquireLock(lock);
    const controller = new AbortController();
    const waiting = acquireLock(lock, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 50);
    await expect(waiting).rejects.toThrow('stop');
    await first!.release();
  });

  it.skipIf(!hasFlock)('flock(1): excludes across processes and against Python', () => excludesWith('flock'));
  it.skipIf(!hasPerl)('perl: excludes across processes and against Python', () => excludesWith('perl'));

  it('a lock that cannot be taken (here: the path is a folder) gives no lock and a warning, not a failure', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      expect(await acquireLock(dir)).toBeUndefined();
      await new Promise((resolve) => setImmediate(resolve));
      expect(
        warnings.some(
          (w) => w.startsWith(`cannot lock ${dir}`) && w.endsWith('downloading without the lock'),
        ),
      ).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it.skipIf(!hasPython)(
    "excludes Python's fcntl.flock on the same file, both ways (filelock's UnixFileLock)",
    async () => {
      const lock = join(dir, 'shared.lock');
      // Python takes the lock as filelock does (O_RDWR | O_CREAT | O_TRUNC, then flock LOCK_EX), holds it 300 ms.
      const python = spawn(
        'python3',
        [
          '-c',
          [
            'import fcntl, os, sys, time',
            'fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)',
            'fcntl.flock(fd, fcntl.LOCK_EX)',
            'print("locked", flush=True)',
            'time.sleep(0.3)',
            'print(time.time() * 1000, flush=True)',
            'fcntl.flock(fd, fcntl.LOCK_UN)',
          ].join('\n'),
          lock,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let output = '';
      python.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      const closed = new Promise((resolve) => python.once('close', resolve));
      await new Promise<void>((resolve) => python.stdout!.once('data', () => resolve()));
      const ours = await acquireLock(lock);
      const heldAt = Date.now();
      await closed;
      const pythonReleasedAt = Number(output.split('\n')[1]);
      expect(heldAt).toBeGreaterThanOrEqual(Math.floor(pythonReleasedAt));

      // While we hold it, Python's non-blocking attempt fails.
      expect(await pythonTryLock(lock)).toBe('busy');
      await ours!.release();
    },
  );
});
