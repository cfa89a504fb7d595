// Run in a child process by hub-file.process.test.ts: downloads one file and prints its path.
import { hubDownload } from '../hub-file.js';

const [endpoint, cacheDir, repoId, file] = process.argv.slice(2) as [string, string, string, string];
const path = await hubDownload(repoId, file, { endpoint, cacheDir, retryDelayMs: 5 });
process.stdout.write(path ?? '');
