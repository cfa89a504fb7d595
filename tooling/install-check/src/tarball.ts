import { execFile } from 'node:child_process';
import { basename, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs a command and returns its stdout; the error names the command and carries its stderr. */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { ...options, maxBuffer: 256 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${stderr || stdout || (error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * Packs one workspace package into `destination` and returns the tarball's path. `pnpm pack` is what
 * `pnpm publish` uploads: it applies `publishConfig` (dropping the `@ortvision/source` export condition) and turns
 * `workspace:^` ranges into real version ranges, which `npm pack` would not.
 */
export async function packPackage(packageDir: string, destination: string): Promise<string> {
  const stdout = await run('pnpm', ['pack', '--json', '--pack-destination', destination], {
    cwd: packageDir,
  });
  const { filename } = JSON.parse(stdout) as { filename: string };
  return resolve(destination, basename(filename));
}

/** The files in a package tarball, relative to the package root (npm tarballs put everything under `package/`). */
export async function listTarball(tarball: string): Promise<string[]> {
  const stdout = await run('tar', ['-tzf', tarball]);
  return stdout
    .split('\n')
    .filter((line) => line !== '' && !line.endsWith('/'))
    .map((line) => line.replace(/^package\//, ''))
    .sort();
}

export async function readTarballFile(tarball: string, path: string): Promise<string> {
  return run('tar', ['-xzOf', tarball, `package/${path}`]);
}

export interface PackedManifest {
  name: string;
  version: string;
  sideEffects?: unknown;
  exports?: unknown;
  files?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const REQUIRED_FILES = ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts'];

// What users never need: sources and tests (the maps point at src/, which is not shipped), fixtures, build state.
const UNWANTED_FILES: readonly [RegExp, string][] = [
  [/^src\//, 'TypeScript sources'],
  [/\.test\./, 'a test'],
  [/(^|\/)(__fixtures__|fixtures)\//, 'test fixtures'],
  [/\.map$/, 'a source map'],
  [/\.tsbuildinfo$/, 'TypeScript build state'],
  [/(^|\/)tsconfig[^/]*\.json$/, 'a tsconfig'],
];

/** Every `exports` target: strings found anywhere in the conditions tree, with the condition path that leads there. */
function exportTargets(exports: unknown, path = 'exports'): { path: string; target: string }[] {
  if (typeof exports === 'string') return [{ path, target: exports }];
  if (exports === null || typeof exports !== 'object') return [];
  return Object.entries(exports).flatMap(([key, value]) =>
    exportTargets(value, `${path}[${JSON.stringify(key)}]`),
  );
}

/** What is wrong with a packed package for users; empty when nothing is. */
export function tarballProblems(files: readonly string[], manifest: PackedManifest): string[] {
  const problems: string[] = [];
  const present = new Set(files);
  for (const required of REQUIRED_FILES) {
    if (!present.has(required)) problems.push(`${required} is missing`);
  }
  for (const file of files) {
    const unwanted = UNWANTED_FILES.find(([pattern]) => pattern.test(file));
    if (unwanted) problems.push(`${file} is ${unwanted[1]}, which users do not need`);
  }
  if (manifest.sideEffects !== false) {
    problems.push(`sideEffects is ${JSON.stringify(manifest.sideEffects)}, expected false`);
  }
  const targets = exportTargets(manifest.exports);
  if (targets.length === 0) problems.push('exports is missing');
  for (const { path, target } of targets) {
    if (path.includes('"@ortvision/source"')) {
      problems.push(`${path} is the workspace-only source condition (publishConfig.exports was not applied)`);
    } else if (!present.has(target.replace(/^\.\//, ''))) {
      problems.push(`${path} points at ${target}, which is not in the tarball`);
    }
  }
  if (subpathExports(manifest).some((entry) => !('types' in entry)))
    problems.push('an exports entry has no types condition');
  for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
    if (range.startsWith('workspace:')) problems.push(`dependency ${name} is still ${range}`);
  }
  return problems;
}

/** The condition objects of each subpath export (`{ types, default }`). */
function subpathExports(manifest: PackedManifest): Record<string, unknown>[] {
  const value = manifest.exports;
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).filter((entry): entry is Record<string, unknown> => typeof entry === 'object');
}
