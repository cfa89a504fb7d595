// Run in a child process by the concurrency tests and hub-timings.ts: loads a model's files from a Hub id as a
// model loader does (one snapshot, then each file read right away) and prints their paths as JSON (and on stderr
// how long the load took).
import { readFile } from 'node:fs/promises';
import { resolveModelFiles } from '../resolve.js';

const [endpoint, cacheDir, repoId, ...files] = process.argv.slice(2) as [string, string, string, ...string[]];
const started = performance.now();
const resolved = await resolveModelFiles(repoId, files, { endpoint, cacheDir, retryDelayMs: 50 });
for (const file of files) {
  const content = await readFile(resolved.files[file]!);
  if (file.endsWith('.json')) JSON.parse(content.toString('utf8'));
}
process.stdout.write(JSON.stringify(resolved.files));
process.stderr.write(`load-ms ${Math.round(performance.now() - started)}\n`);
