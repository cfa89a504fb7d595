import { mkdir, open, readFile, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockOptions {
  /** A lock whose file was not touched for this long is taken over (its owner died). Default 60 s. */
  staleMs?: number;
  /** How often a waiting process looks again. Default 100 ms. */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface FileLock {
  /** Marks the lock as alive; the holder calls it while working so waiters never take it over. */
  touch(): void;
  release(): Promise<void>;
}

interface LockOwner {
  pid: number;
  host: string;
}

function ownerIsDead(owner: LockOwner | undefined): boolean {
  if (!owner || owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock between processes: a file created with O_EXCL holding its owner's pid, kept fresh while held.
 * A waiter takes the lock over when its owner is a dead process on this host or the file went stale.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<FileLock> {
  const { staleMs = 60_000, pollMs = 100, signal } = options;
  await mkdir(dirname(path), { recursive: true });
  for (;;) {
    signal?.throwIfAborted();
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname() } satisfies LockOwner));
      await handle.close();
      return heldLock(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let stale = false;
    try {
      const info = await stat(path);
      stale = Date.now() - info.mtimeMs > staleMs || ownerIsDead(await readOwner(path));
    } catch {
      continue; // released between our attempts
    }
    if (stale) await rm(path, { force: true });
    else await sleep(pollMs, undefined, { signal });
  }
}

function heldLock(path: string): FileLock {
  let last = Date.now();
  let released = false;
  return {
    touch() {
      const now = Date.now();
      if (released || now - last < 1000) return;
      last = now;
      utimes(path, now / 1000, now / 1000).catch(() => {});
    },
    async release() {
      released = true;
      await rm(path, { force: true });
    },
  };
}
