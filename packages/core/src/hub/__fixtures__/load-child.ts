// Run in a child process by the concurrency tests and hub-timings.ts: loads a model's files from a Hub id as a
// model loader does (one snapshot, then each file read right away) and prints their paths as JSON (and on stderr
// how long the load took).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveModelFiles } from '../resolve.js';

const [endpoint, cacheDir, repoId, ...files] = process.argv.slice(2) as [string, string, string, ...string[]];
// With ORTVISION_GO_FILE, wait for that file after saying "ready", so that a timing excludes process start-up.
const go = process.env.ORTVISION_GO_FILE;
if (go) {
  process.stderr.write('ready\n');
  for (let waited = 0; !existsSync(go) && waited < 60_000; waited += 2) await sleep(2);
}
const started = performance.now();
const resolved = await resolveModelFiles(repoId, files, { endpoint, cacheDir, retryDelayMs: 50 });
for (const file of files) {
  const content = await readFile(resolved.files[file]!);
  if (file.endsWith('.json')) JSON.parse(content.toString('utf8'));
}
process.stdout.write(JSON.stringify(resolved.files));
process.stderr.write(`load-ms ${Math.round(performance.now() - started)}\n`);
