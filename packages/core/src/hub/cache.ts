import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

const COMMIT_HASH = /^[0-9a-f]{40}$/;

export function isCommitHash(revision: string): boolean {
  return COMMIT_HASH.test(revision);
}

export type CacheLookup = { state: 'cached'; path: string } | { state: 'absent' } | { state: 'unknown' };

/** The cache folder name of a model repository: `org/name` -> `models--org--name`. */
export function repoFolderName(repoId: string): string {
  return `models--${repoId.split('/').join('--')}`;
}

/**
 * A Hub cache laid out as huggingface_hub lays it out, so Python and ortvision reuse each other's downloads:
 *
 *   <root>/models--org--name/blobs/<etag>                  file contents, named by the Hub's etag
 *   <root>/models--org--name/snapshots/<commit>/<file>     relative symlinks to the blobs
 *   <root>/models--org--name/refs/<revision>               the commit a branch or tag pointed to
 *   <root>/models--org--name/.no_exist/<commit>/<file>     files known to be absent at that commit
 *   <root>/.locks/models--org--name/<etag>.*.lock           download locks
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
    return join(this.repoDir(repoId), 'blobs', etag);
  }

  snapshotDir(repoId: string, commit: string): string {
    return join(this.repoDir(repoId), 'snapshots', commit);
  }

  snapshotPath(repoId: string, commit: string, file: string): string {
    return join(this.snapshotDir(repoId, commit), ...file.split('/'));
  }

  lockPath(repoId: string, etag: string): string {
    // Not huggingface_hub's `<etag>.lock`: Python holds that one with flock, which Node cannot take, and the file
    // outlives its lock, so sharing the name would look like a lock that never ends.
    return join(this.root, '.locks', repoFolderName(repoId), `${etag}.node.lock`);
  }

  /** The commit a revision stands for in the cache: itself if it is a hash, else what refs/<revision> holds. */
  commitFor(repoId: string, revision: string): string | undefined {
    if (isCommitHash(revision)) return revision;
    const ref = join(this.repoDir(repoId), 'refs', ...revision.split('/'));
    try {
      return readFileSync(ref, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** What the cache knows of a file at a revision: its path, that the Hub said it is absent, or nothing. */
  lookup(repoId: string, revision: string, file: string): CacheLookup {
    const commit = this.commitFor(repoId, revision);
    if (!commit) return { state: 'unknown' };
    const path = this.snapshotPath(repoId, commit, file);
    if (existsSync(path)) return { state: 'cached', path };
    if (existsSync(join(this.repoDir(repoId), '.no_exist', commit, ...file.split('/'))))
      return { state: 'absent' };
    return { state: 'unknown' };
  }

  async writeRef(repoId: string, revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
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
    await mkdir(dirname(marker), { recursive: true });
    await writeFile(marker, '');
  }

  /** Points snapshots/<commit>/<file> at a blob with a relative symlink (a copy where symlinks are refused). */
  async linkSnapshot(repoId: string, commit: string, file: string, etag: string): Promise<string> {
    const pointer = this.snapshotPath(repoId, commit, file);
    const blob = this.blobPath(repoId, etag);
    await mkdir(dirname(pointer), { recursive: true });
    await rm(pointer, { force: true });
    try {
      await symlink(relative(dirname(pointer), blob), pointer);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return pointer;
      // Windows without developer mode cannot create symlinks; huggingface_hub copies then too.
      if (code !== 'EPERM' && code !== 'ENOTSUP') throw error;
      await copyFile(blob, pointer);
    }
    return pointer;
  }
}
