// Run in a child process by the build-cache tests: builds the tiny model's graph from the folder's checkpoint into
// the build cache, as a load does, and prints { path } as JSON. With a go-file, it stops after writing its first
// weight, says "building" on stdout and waits for that file: the test then kills it there, or lets several
// processes finish at once.
import { existsSync } from 'node:fs';
import { openModelRepo } from '../../hub/model-repo.js';
import { ModelGraphs } from '../model-graphs.js';
import { TinyConfig, TinyGraphs } from './tiny-model.js';

const [folder, graphCacheDir, goFile] = process.argv.slice(2) as [string, string, string | undefined];
const pause = new Int32Array(new SharedArrayBuffer(4));
const repo = await openModelRepo(folder);
const config = await TinyConfig.fromPretrained(folder, { repo });
const graphs = new ModelGraphs(TinyGraphs as never, repo, config, {
  graphCacheDir,
  onProgress: (progress) => {
    if (goFile === undefined || !('kind' in progress) || progress.weights !== 1) return;
    process.stdout.write('building\n');
    // Blocks the process mid-write, as a long build would be when it is killed.
    while (!existsSync(goFile)) Atomics.wait(pause, 0, 0, 10);
  },
});
process.stdout.write(`${JSON.stringify({ path: await graphs.file('model') })}\n`);
