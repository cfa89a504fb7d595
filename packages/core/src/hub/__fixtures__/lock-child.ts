// Run in a child process by lock.test.ts: prints "ready", waits until the file `<log>.go` exists (so that all
// children ask for the lock at the same moment), takes the lock, holds it for the given milliseconds and releases
// it, appending one line to the log: "held" when it was alone, "OVERLAP" when another holder's marker was there
// (a file created with O_EXCL while the lock is held).
import { existsSync } from 'node:fs';
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock } from '../lock.js';

const [lockPath, log, holdMs] = process.argv.slice(2) as [string, string, string];
const marker = `${log}.holder`;
process.stdout.write('ready\n');
for (let waited = 0; !existsSync(`${log}.go`) && waited < 30_000; waited += 2) await sleep(2);
const lock = await acquireLock(lockPath);
let alone = true;
try {
  await writeFile(marker, String(process.pid), { flag: 'wx' });
} catch {
  alone = false;
}
await sleep(Number(holdMs));
if (alone) await rm(marker);
await appendFile(log, `${alone ? 'held' : 'OVERLAP'} ${process.pid} ${lock ? 'locked' : 'no lock'}\n`);
await lock?.release();
