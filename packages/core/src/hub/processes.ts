import { createHash } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * A short tag of this machine for the names of temporary files a process owns (`<name>.<host>-<pid>.incomplete`):
 * a pid means something only on the host that gave it, and a cache folder may be shared over the network.
 */
export const HOST_TAG = createHash('sha1').update(hostname()).digest('hex').slice(0, 8);

/** Whether a process of this host still runs (one that cannot be signalled, for lack of rights, counts as running). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
