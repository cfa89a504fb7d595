import { constants, accessSync, existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, type PictureOptions } from '@ortvision/core';

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

/** URLs loadImage reads itself; a Windows drive letter (`C:`) is one letter, so it is never taken for one. */
const URL_INPUT = /^(https?:\/\/|data:|file:)/i;

/** A file argument, resolved where the command was typed; an `http(s):`, `data:` or `file:` URL stays a URL. */
export function resolveInput(path: string): string {
  return URL_INPUT.test(path) ? path : resolve(userCwd(), path);
}

/** `--model`: an existing folder (resolved where the command was typed), else a Hub id passed through. */
export function resolveModel(model: string): string {
  const local = resolve(userCwd(), model);
  return existsSync(local) ? local : model;
}

const PICTURE_FORMATS: Record<string, NonNullable<PictureOptions['format']>> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
};

/**
 * Checks `--out` before any model is loaded: its extension picks the picture format (.png, .jpg/.jpeg, .webp), and
 * its folder must exist and be writable. Returns the format, for `annotateImage`'s `{ format }`.
 */
export function checkOutput(out: string): NonNullable<PictureOptions['format']> {
  const ext = extname(out).toLowerCase();
  const format = PICTURE_FORMATS[ext];
  if (!format) {
    const what = ext === '' ? 'has no file extension' : `ends in ${ext}`;
    throw new InvalidArgumentError(
      `--out ${out} ${what}: pictures are written as .png, .jpg, .jpeg or .webp (chosen by the extension)`,
    );
  }
  const folder = dirname(resolve(userCwd(), out));
  const stat = statSync(folder, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) {
    throw new InvalidArgumentError(
      `--out ${out}: the folder ${folder} ${stat ? 'is not a folder' : 'does not exist'}`,
    );
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch {
    throw new InvalidArgumentError(`--out ${out}: the folder ${folder} is not writable`);
  }
  return format;
}

/** The picture for the index-th input: `out`, then `out-2.png`, `out-3.png`, ... */
export function outputPath(out: string, index = 0): string {
  if (index === 0) return resolve(userCwd(), out);
  const ext = extname(out) || '.png';
  return resolve(userCwd(), dirname(out), `${basename(out, ext)}-${index + 1}${ext}`);
}
