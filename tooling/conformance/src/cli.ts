#!/usr/bin/env node
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findAdapter } from './adapters/index.js';
import { type CaseResult, formatResult, runFixture, summarize } from './runner.js';

const usage = `usage: pnpm conformance [--from-checkpoint] [--images <dir>] <fixture-dir or folder of fixtures>...

Runs every case of each fixture's reference/manifest.json through the ortvision packages and compares with the
expected values. Prints one line per case and ends with "N passed, M failed, K skipped".
Exit code: 0 all passed, 1 a case failed, 2 a case could not be run (no adapter for its call or task).
--from-checkpoint  run the model and pipeline cases on graphs built from each fixture's checkpoint
                   (model.safetensors / pytorch_model.bin), ignoring its onnx/ folder; a case whose graph has no
                   checkpoint behind it is skipped with the reason (processor and post-process cases run as usual)
--images <dir>     where the manifests' image names are found (default: <fixture-dir>/../images)`;

/** A folder of fixtures (like the repository's `fixtures/`) stands for every fixture directly inside it. */
function expandFixtureDirs(dir: string): string[] {
  if (
    existsSync(join(dir, 'reference', 'manifest.json')) ||
    !existsSync(dir) ||
    !statSync(dir).isDirectory()
  ) {
    return [dir];
  }
  const children = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'reference', 'manifest.json')))
    .map((entry) => join(dir, entry.name))
    .sort();
  return children.length > 0 ? children : [dir];
}

async function main(argv: string[]): Promise<number> {
  const dirs: string[] = [];
  let imagesDir: string | undefined;
  let fromCheckpoint = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      console.log(usage);
      return 0;
    }
    if (arg === '--images') imagesDir = argv[++i];
    else if (arg === '--from-checkpoint') fromCheckpoint = true;
    else if (arg.startsWith('--')) {
      console.error(`unknown option ${arg}\n${usage}`);
      return 2;
    } else dirs.push(arg);
  }
  if (dirs.length === 0 || (imagesDir === undefined && argv.includes('--images'))) {
    console.error(usage);
    return 2;
  }
  // pnpm runs root scripts from the workspace root; INIT_CWD is where the user typed the command.
  const base = process.env.INIT_CWD ?? process.cwd();
  const results: CaseResult[] = [];
  // Graphs built for this run only: a cache of its own, so that a run checks the builders as they are now.
  const graphCacheDir = fromCheckpoint ? await mkdtemp(join(tmpdir(), 'ortvision-conformance-')) : undefined;
  try {
    for (const dir of dirs.flatMap((d) => expandFixtureDirs(resolve(base, d)))) {
      try {
        results.push(
          ...(await runFixture(dir, {
            adapters: findAdapter,
            imagesDir: imagesDir === undefined ? undefined : resolve(base, imagesDir),
            onResult: (result) => console.log(formatResult(result)),
            ...(graphCacheDir ? { fromCheckpoint: { graphCacheDir } } : {}),
          })),
        );
      } catch (error) {
        console.log(`FAIL ${dir}: ${error instanceof Error ? error.message : String(error)}`);
        results.push({
          fixture: dir,
          kind: 'model',
          name: '(manifest)',
          status: 'fail',
          worst: Number.NaN,
          detail: String(error),
        });
      }
    }
  } finally {
    if (graphCacheDir) await rm(graphCacheDir, { recursive: true, force: true });
  }
  const summary = summarize(results);
  for (const line of summary.lines) console.log(line);
  return summary.exitCode;
}

process.exitCode = await main(process.argv.slice(2));
