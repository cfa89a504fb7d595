import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FixtureFormatError } from '../errors.js';

function findUp(start: string): string | undefined {
  let dir = resolve(start);
  for (;;) {
    const candidate = join(dir, 'fixtures');
    if (existsSync(join(candidate, 'README.md')) && existsSync(join(candidate, 'images'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The repository's `fixtures/` folder: `ORTVISION_FIXTURES` when set, else the first `fixtures/` (with README.md
 * and images/) above the current directory or above this module.
 */
export function fixturesRoot(): string {
  const fromEnv = process.env.ORTVISION_FIXTURES;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new FixtureFormatError(`ORTVISION_FIXTURES=${fromEnv} does not exist`);
    return resolve(fromEnv);
  }
  const found = findUp(process.cwd()) ?? findUp(dirname(fileURLToPath(import.meta.url)));
  if (!found) {
    throw new FixtureFormatError(
      'cannot find the fixtures/ folder above the current directory; set ORTVISION_FIXTURES to its path',
    );
  }
  return found;
}

/** Path of a fixture folder (e.g. `fixturePath('vit-cls')`) or of a file inside it. */
export function fixturePath(fixture: string, ...parts: string[]): string {
  return join(fixturesRoot(), fixture, ...parts);
}

/** Path of one of the shared test images (e.g. `fixtureImagePath('cats.png')`). */
export function fixtureImagePath(name: string): string {
  return join(fixturesRoot(), 'images', name);
}

/**
 * A changed copy of a fixture folder for tests of bad input (without its reference/ data): each entry of
 * `changes` replaces a file by the given text, by a file of another fixture (`'from:<fixture>/<path>'`), or removes
 * it or a whole folder (`null`: `{ onnx: null }` leaves only the checkpoint to build the graphs from). Returns
 * `folder`.
 *
 * @example
 * const folder = await fixtureVariant('vit-cls', join(tmp, 'no-config'), { 'config.json': null });
 */
export async function fixtureVariant(
  fixture: string,
  folder: string,
  changes: Readonly<Record<string, string | null>>,
): Promise<string> {
  await cp(fixturePath(fixture), folder, { recursive: true, filter: (src) => !src.includes('reference') });
  for (const [file, content] of Object.entries(changes)) {
    await rm(join(folder, file), { force: true, recursive: true });
    if (content?.startsWith('from:')) {
      const [source, ...parts] = content.slice('from:'.length).split('/');
      await cp(fixturePath(source!, ...parts), join(folder, file));
    } else if (content !== null) await writeFile(join(folder, file), content);
  }
  return folder;
}

/** Copies of fixtures as the original Hub repositories hold them, with a graph cache of their own (`checkpointFolders`). */
export interface CheckpointFolders {
  /** Where the copies and the graph cache are. */
  readonly dir: string;
  /** Options for every load from the copies: their graph cache (`graphCacheDir`). */
  readonly options: { readonly graphCacheDir: string };
  /** The copy of `fixture` without `onnx/`, made on first use. */
  folder(fixture: string): Promise<string>;
  /** Removes the copies and the graph cache. */
  remove(): Promise<void>;
}

/**
 * Copies of fixtures without `onnx/` (config, processor and tokenizer files and the checkpoint, as the original Hub
 * repositories are), in a temporary folder named after `label`, with a graph cache of their own: loading one builds
 * its graphs from the checkpoint, and no test finds graphs another test file (or the user's cache) built.
 *
 * @example
 * ```ts
 * const folders = await checkpointFolders('vit');
 * const classify = await imageClassification(await folders.folder('vit-cls'), folders.options);
 * await classify.dispose();
 * await folders.remove();
 * ```
 */
export async function checkpointFolders(label: string): Promise<CheckpointFolders> {
  const dir = await mkdtemp(join(tmpdir(), `ortvision-${label}-checkpoint-folders-`));
  const copies = new Map<string, Promise<string>>();
  return {
    dir,
    options: { graphCacheDir: join(dir, 'graph-cache') },
    folder(fixture) {
      let copy = copies.get(fixture);
      if (!copy) {
        copy = fixtureVariant(fixture, join(dir, fixture), { onnx: null });
        copies.set(fixture, copy);
      }
      return copy;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
