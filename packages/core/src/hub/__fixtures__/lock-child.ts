// Run in a child process by lock.test.ts: takes the lock, holds it for the given milliseconds and releases it,
// appending one line to the log: "held" when it was alone, "OVERLAP" when another holder's marker was there (the
// marker is a file created with O_EXCL while the lock is held). Prints "held" once it holds the lock.
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../lock.js';

const [lockPath, log, holdMs] = process.argv.slice(2) as [string, string, string];
const marker = `${log}.holder`;
const lock = await acquireLock(lockPath);
let alone = true;
try {
  await writeFile(marker, String(process.pid), { flag: 'wx' });
} catch {
  alone = false;
}
process.stdout.write('held\n');
await sleep(Number(holdMs));
if (alone) await rm(marker);
await appendFile(log, `${alone ? 'held' : 'OVERLAP'} ${process.pid} ${lock ? 'locked' : 'no lock'}\n`);
await lock?.release();
