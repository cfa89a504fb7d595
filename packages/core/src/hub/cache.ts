import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

const COMMIT_HASH = /^[0-9a-f]{40}$/;
// What a Hub etag is when it names a blob: the sha256 of an LFS file or the git blob id (sha1) of a regular one.
const BLOB_NAME = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

export function isCommitHash(revision: string): boolean {
  return COMMIT_HASH.test(revision);
}

/** Whether an etag can name a blob file: a hex sha256 or git sha1, nothing that could leave the folder. */
export function isBlobName(etag: string): boolean {
  return BLOB_NAME.test(etag);
}

/**
 * Checks a revision the caller gave before it becomes a path under `refs/`: a branch, a tag, `refs/pr/<n>` or a
 * commit hash, never `..`, an absolute path or a control character.
 */
export function checkRevision(revision: string): void {
  const bad =
    typeof revision !== 'string' ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
    /[\u0000-\u001f\u007f\\]/.test(revision) ||
    revision.split('/').some((part) => part === '' || part === '.' || part === '..');
  if (bad) {
    throw new InvalidArgumentError(
      `invalid revision ${JSON.stringify(revision)} (expected a branch, a tag, refs/pr/<n> or a 40-character commit hash)`,
    );
  }
}

export type CacheLookup = { state: 'cached'; path: string } | { state: 'absent' } | { state: 'unknown' };

/** The cache folder name of a model repository: `org/name` -> `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/** What `linkSnapshot` and `writeRef` write beside an entry before renaming it into place. */
const TEMPORARY = /\.\d+\.[0-9a-f-]{36}\.tmp$/;

/** Every file under `dir` (following links, as a snapshot is links), as `/`-separated relative paths. */
function listFilesUnder(dir: string, prefix = ''): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of entries) {
    const path = join(dir, name);
    const info = statSync(path, { throwIfNoEntry: false });
    if (info?.isDirectory()) out.push(...listFilesUnder(path, `${prefix}${name}/`));
    else if (info?.isFile() && !TEMPORARY.test(name)) out.push(`${prefix}${name}`);
  }
  return out;
}

/**
 * A Hub cache laid out as huggingface_hub lays it out, so Python and ortvision reuse each other's downloads:
 *
 *   <root>/models--org--name/blobs/<etag>                  file contents, named by the Hub's etag
 *   <root>/models--org--name/snapshots/<commit>/<file>     relative symlinks to the blobs
 *   <root>/models--org--name/refs/<revision>               the commit a branch or tag pointed to
 *   <root>/models--org--name/.no_exist/<commit>/<file>     files known to be absent at that commit
 *   <root>/.locks/models--org--name/<etag>.lock            download locks (flock), shared with huggingface_hub
 */
export class HubCache {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  repoDir(repoId: string): string {
    return join(this.root, repoFolderName(repoId));
  }

  blobPath(repoId: string, etag: string): string {
    if (!isBlobName(etag)) throw new InvalidArgumentError(`invalid blob name ${JSON.stringify(etag)}`);
    return join(this.repoDir(repoId), 'blobs', etag);
  }

  snapshotDir(repoId: string, commit: string): string {
    if (!isCommitHash(commit)) throw new InvalidArgumentError(`invalid commit ${JSON.stringify(commit)}`);
    return join(this.repoDir(repoId), 'snapshots', commit);
  }

  snapshotPath(repoId: string, commit: string, file: string): string {
    return join(this.snapshotDir(repoId, commit), ...file.split('/'));
  }

  /** The lock huggingface_hub takes for a blob, so that both exclude each other. */
  lockPath(repoId: string, etag: string): string {
    if (!isBlobName(etag)) throw new InvalidArgumentError(`invalid blob name ${JSON.stringify(etag)}`);
    return join(this.root, '.locks', repoFolderName(repoId), `${etag}.lock`);
  }

  /**
   * The commit a revision stands for in the cache: itself if it is a hash, else what refs/<revision> holds (when
   * that is a commit hash: a ref holding anything else is ignored).
   */
  commitFor(repoId: string, revision: string): string | undefined {
    if (isCommitHash(revision)) return revision;
    const ref = join(this.repoDir(repoId), 'refs', ...revision.split('/'));
    try {
      const commit = readFileSync(ref, 'utf8').trim();
      return isCommitHash(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  /** The files the cache holds for a commit (what a snapshot folder has), `/`-separated. */
  snapshotFiles(repoId: string, commit: string): string[] {
    return listFilesUnder(this.snapshotDir(repoId, commit)).sort();
  }

  hasSnapshot(repoId: string, commit: string): boolean {
    return existsSync(this.snapshotDir(repoId, commit));
  }

  isMarkedAbsent(repoId: string, commit: string, file: string): boolean {
    return existsSync(join(this.repoDir(repoId), '.no_exist', commit, ...file.split('/')));
  }

  /** What the cache knows of a file at a revision: its path, that the Hub said it is absent, or nothing. */
  lookup(repoId: string, revision: string, file: string): CacheLookup {
    const commit = this.commitFor(repoId, revision);
    if (!commit) return { state: 'unknown' };
    const path = this.snapshotPath(repoId, commit, file);
    if (existsSync(path)) return { state: 'cached', path };
    if (this.isMarkedAbsent(repoId, commit, file)) return { state: 'absent' };
    return { state: 'unknown' };
  }

  async writeRef(repoId: string, revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    checkRevision(revision);
    if (!isCommitHash(commit)) throw new InvalidArgumentError(`invalid commit ${JSON.stringify(commit)}`);
    const ref = join(this.repoDir(repoId), 'refs', ...revision.split('/'));
    let current: string | undefined;
    try {
      current = (await readFile(ref, 'utf8')).trim();
    } catch {
      current = undefined;
    }
    if (current === commit) return;
    await mkdir(dirname(ref), { recursive: true });
    // Written beside and renamed, so a reader never sees a half-written hash.
    const temporary = `${ref}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(temporary, commit);
    await rename(temporary, ref);
  }

  async markAbsent(repoId: string, commit: string, file: string): Promise<void> {
    const marker = join(this.repoDir(repoId), '.no_exist', commit, ...file.split('/'));
    if (existsSync(marker)) return;
    await mkdir(dirname(marker), { recursive: true });
    await writeFile(marker, '');
  }

  /**
   * Points snapshots/<commit>/<file> at a blob with a relative symlink (a copy where symlinks are refused). The link
   * is made beside and renamed into place, so the entry is never missing for a reader, whoever links it too; an
   * entry that already resolves is left alone.
   */
  async linkSnapshot(repoId: string, commit: string, file: string, etag: string): Promise<string> {
    const pointer = this.snapshotPath(repoId, commit, file);
    if (existsSync(pointer)) return pointer;
    const blob = this.blobPath(repoId, etag);
    await mkdir(dirname(pointer), { recursive: true });
    const temporary = `${pointer}.${process.pid}.${randomUUID()}.tmp`;
    try {
      await symlink(relative(dirname(pointer), blob), temporary);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Windows without developer mode cannot create symlinks; huggingface_hub copies then too.
      if (code !== 'EPERM' && code !== 'ENOTSUP') throw error;
      await copyFile(blob, temporary);
    }
    try {
      await rename(temporary, pointer);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return pointer;
  }
}
