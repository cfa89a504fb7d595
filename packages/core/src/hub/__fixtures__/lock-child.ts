// Run in a child process by lock.test.ts: takes the lock, appends "<pid> <entered> <left>" to the log after holding
// it for the given milliseconds, releases it. Prints "held" once it holds the lock.
import { appendFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../lock.js';

const [lockPath, log, holdMs] = process.argv.slice(2) as [string, string, string];
const lock = await acquireLock(lockPath);
const entered = performance.timeOrigin + performance.now();
process.stdout.write('held\n');
await sleep(Number(holdMs));
const left = performance.timeOrigin + performance.now();
await appendFile(log, `${process.pid} ${entered} ${left}\n`);
await lock?.release();
