import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from './lock.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ortvision-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('acquireLock', () => {
  it('lets one holder in at a time', async () => {
    const path = join(dir, 'x.lock');
    const order: string[] = [];
    const first = await acquireLock(path, { pollMs: 5 });
    const second = acquireLock(path, { pollMs: 5 }).then((lock) => {
      order.push('second');
      return lock;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    order.push('first releases');
    await first.release();
    await (await second).release();
    expect(order).toEqual(['first releases', 'second']);
    expect(existsSync(path)).toBe(false);
  });

  it('takes over the lock of a dead process', async () => {
    const path = join(dir, 'dead.lock');
    // pid 2^22 + 1 is above Linux's pid_max default, so no process has it.
    await writeFile(path, JSON.stringify({ pid: 4194305, host: hostname() }));
    const lock = await acquireLock(path, { pollMs: 5 });
    await lock.release();
  });

  it('takes over a stale lock of an unknown owner', async () => {
    const path = join(dir, 'stale.lock');
    await writeFile(path, '');
    const old = Date.now() / 1000 - 120;
    await utimes(path, old, old);
    const lock = await acquireLock(path, { pollMs: 5, staleMs: 60_000 });
    await lock.release();
  });
});
