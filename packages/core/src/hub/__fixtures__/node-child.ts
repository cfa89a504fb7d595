// Starts the TypeScript child scripts of the concurrency tests as real Node processes. Each is bundled once into
// one plain .mjs file with the esbuild that tsx brings (about 0.1 s of CPU per process instead of ~0.8 s through
// tsx's loader), so that 8 processes start in well under a second; without esbuild, they run through tsx.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bundles = new Map<string, Promise<string[]>>();

async function bundle(script: string): Promise<string[]> {
  try {
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
    const esbuild = fromTsx('esbuild') as { build(options: Record<string, unknown>): Promise<unknown> };
    const outfile = join(await mkdtemp(join(tmpdir(), 'ortvision-child-')), 'child.mjs');
    await esbuild.build({
      entryPoints: [script],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'silent',
    });
    return [outfile];
  } catch {
    return ['--import', 'tsx', script];
  }
}

/**
 * The node arguments that run `script` (a .ts file). ORTVISION_CHILD_BUNDLES names a folder of bundles made
 * beforehand (`<name>.mjs`), for a machine that has node but not this workspace's node_modules.
 */
export function childArgs(script: string): Promise<string[]> {
  const prebuilt = process.env.ORTVISION_CHILD_BUNDLES;
  if (prebuilt) return Promise.resolve([join(prebuilt, basename(script).replace(/\.ts$/, '.mjs'))]);
  let args = bundles.get(script);
  if (!args) {
    args = bundle(script);
    bundles.set(script, args);
  }
  return args;
}

/** Runs `script` with `args` in a new Node process; resolves with its output, rejects when it fails. */
export async function runChild(
  script: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeout?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [...(await childArgs(script)), ...args], {
    env: options.env ?? process.env,
    timeout: options.timeout ?? 30_000,
  });
}
