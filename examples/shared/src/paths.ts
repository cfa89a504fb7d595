import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, where the fixture models the examples default to live. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** A path under the repository's `fixtures/` folder (the offline defaults of every example). */
export function repoFixture(...parts: string[]): string {
  return join(repoRoot, 'fixtures', ...parts);
}

/**
 * Where the user typed the command: pnpm runs package scripts in the package folder and records the original
 * directory in INIT_CWD. Read at call time so that a server or a test can change it.
 */
export function userCwd(): string {
  return process.env.INIT_CWD || process.cwd();
}

/** A file argument, resolved where the command was typed. */
export function resolveInput(path: string): string {
  return resolve(userCwd(), path);
}

/** `--model`: an existing folder (resolved where the command was typed), else a Hub id passed through. */
export function resolveModel(model: string): string {
  const local = resolve(userCwd(), model);
  return existsSync(local) ? local : model;
}

/** The picture for the index-th input: `out`, then `out-2.png`, `out-3.png`, ... */
export function outputPath(out: string, index = 0): string {
  if (index === 0) return resolve(userCwd(), out);
  const ext = extname(out) || '.png';
  return resolve(userCwd(), dirname(out), `${basename(out, ext)}-${index + 1}${ext}`);
}
