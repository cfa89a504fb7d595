import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomically } from '../checkpoint/files.js';
import { fileChecksum } from '../hub/checksum.js';
import { HOST_TAG, isProcessAlive } from '../hub/processes.js';
import type { GraphDtype } from '../onnx/module.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Where built graphs are cached when `graphCacheDir` is not given: `$ORTVISION_CACHE/graphs`, else
 * `$XDG_CACHE_HOME/ortvision/graphs`, else `~/.cache/ortvision/graphs` (beside the Hub cache, like it).
 *
 * @example
 * defaultGraphCacheDir({ ORTVISION_CACHE: '/data/ortvision' }); // '/data/ortvision/graphs'
 */
export function defaultGraphCacheDir(env: Env = process.env): string {
  if (env.ORTVISION_CACHE) return join(env.ORTVISION_CACHE, 'graphs');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ortvision', 'graphs');
}

/** One checkpoint file as the cache key names it: its path in the repository and what its content is. */
export interface CheckpointFileIdentity {
  readonly file: string;
  /** The Hub's etag (sha256 for LFS files, the git blob id otherwise), or the sha256 of a local file. */
  readonly sha: string;
}

/**
 * Everything a built graph depends on. Two loads with equal keys get the same bytes, so the second reuses the
 * first's graph; anything that changes the graph changes the key (another checkpoint or config, dtype, class,
 * graph, a new version of the class's builders or of core's graph writing).
 */
export interface GraphBuildKey {
  readonly modelClass: string;
  readonly graph: string;
  readonly dtype: GraphDtype;
  /** The class's `checkpointGraphs.version`. */
  readonly builderVersion: number;
  /** Core's `GRAPH_FORMAT_VERSION`. */
  readonly formatVersion: number;
  /** config.json as read (`config.raw`); keys are sorted when hashed. */
  readonly config: unknown;
  /** The checkpoint's files (the index and its shards, or the one file). */
  readonly checkpoint: readonly CheckpointFileIdentity[];
}

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The key's hash, the name of its cache entry. */
export function graphBuildKeyHash(key: GraphBuildKey): string {
  return createHash('sha256').update(canonicalJson(key)).digest('hex');
}

/** The file in an entry that records its key; an entry is complete when it and the graph are there. */
const BUILD_RECORD = 'build.json';
const INCOMPLETE = '.incomplete';

// One build per entry at a time in this process: concurrent loads of one graph wait for the first.
const inFlight = new Map<string, Promise<string>>();

/**
 * The cache of graphs built from checkpoints: `<root>/<model class>/<key hash>/` holds the graph file as the Hub's
 * ONNX layout names it (`model_quantized.onnx` + `model_quantized.onnx_data`) and `build.json`, the key it was
 * built for. An entry is built in a folder of its own (`.<hash>.<host>-<pid>-<random>.incomplete`) and renamed to
 * its name when complete, so a process killed mid-build leaves only a folder that no lookup takes; when several
 * processes build one entry at once, the first rename wins and the others discard theirs. Removing the folder
 * (or any entry in it) is always safe: what is missing is built again.
 *
 * @example
 * const cache = new GraphCache(defaultGraphCacheDir());
 * const path = cache.lookup(key, 'model.onnx') ?? (await cache.store(key, 'model.onnx', (dir) => write(dir)));
 */
export class GraphCache {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** The entry's folder. */
  entryDir(key: GraphBuildKey): string {
    return join(this.root, key.modelClass, graphBuildKeyHash(key));
  }

  /** The cached graph file of `key`, or undefined when no complete entry holds it. */
  lookup(key: GraphBuildKey, fileName: string): string | undefined {
    const dir = this.entryDir(key);
    const path = join(dir, fileName);
    return existsSync(join(dir, BUILD_RECORD)) && existsSync(path) ? path : undefined;
  }

  /**
   * The graph file of `key`: the cached one, else `build(dir)` writes `fileName` (and whatever goes beside it) into
   * a temporary folder, which becomes the entry. A failed or aborted build leaves no entry and no temporary folder.
   */
  store(key: GraphBuildKey, fileName: string, build: (dir: string) => Promise<void>): Promise<string> {
    const dir = this.entryDir(key);
    let pending = inFlight.get(dir);
    if (!pending) {
      pending = this.#build(key, dir, fileName, build).finally(() => inFlight.delete(dir));
      inFlight.set(dir, pending);
    }
    return pending;
  }

  async #build(
    key: GraphBuildKey,
    dir: string,
    fileName: string,
    build: (dir: string) => Promise<void>,
  ): Promise<string> {
    const found = this.lookup(key, fileName);
    if (found) return found;
    const parent = join(dir, '..');
    const hash = graphBuildKeyHash(key);
    await mkdir(parent, { recursive: true });
    await this.#removeAbandoned(parent, hash);
    const temporary = join(
      parent,
      `.${hash}.${HOST_TAG}-${process.pid}-${randomBytes(4).toString('hex')}${INCOMPLETE}`,
    );
    await mkdir(temporary);
    try {
      await build(temporary);
      await writeFile(join(temporary, BUILD_RECORD), `${JSON.stringify(key, null, 2)}\n`);
      // An entry that lost its graph (removed by hand) is in the way of the rename: it is rebuilt in full.
      if (existsSync(dir) && !this.lookup(key, fileName)) await rm(dir, { recursive: true, force: true });
      try {
        await rename(temporary, dir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // Another process renamed its build first: same key, same bytes; ours is discarded.
        if (!(code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EPERM') || !this.lookup(key, fileName))
          throw error;
      }
    } finally {
      await rm(temporary, { recursive: true, force: true });
    }
    return join(dir, fileName);
  }

  /** Removes the temporary folders of builds of `hash` whose process on this host is gone (killed mid-build). */
  async #removeAbandoned(parent: string, hash: string): Promise<void> {
    const prefix = `.${hash}.${HOST_TAG}-`;
    for (const name of readdirSync(parent)) {
      if (!name.startsWith(prefix) || !name.endsWith(INCOMPLETE)) continue;
      const pid = Number(name.slice(prefix.length).split('-')[0]);
      if (Number.isSafeInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) {
        await rm(join(parent, name), { recursive: true, force: true });
      }
    }
  }
}

/** What `localFileSha256` remembers of a file it hashed. */
interface HashRecord {
  path: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * The sha256 of a local file, remembered in `memoDir` by path, size and modification time: a second load of the
 * same checkpoint reads a few bytes of JSON instead of hashing gigabytes again; a file changed in place (new size
 * or mtime) is hashed again.
 */
export async function localFileSha256(
  path: string,
  stats: { size: number; mtimeMs: number },
  memoDir: string,
): Promise<string> {
  const record = join(memoDir, `${createHash('sha256').update(path).digest('hex')}.json`);
  try {
    const memo = JSON.parse(await readFile(record, 'utf8')) as HashRecord;
    if (memo.path === path && memo.size === stats.size && memo.mtimeMs === stats.mtimeMs) return memo.sha256;
  } catch {
    // No record, or an unreadable one: hash the file.
  }
  const sha256 = await fileChecksum(path, 'sha256');
  const memo: HashRecord = { path, size: stats.size, mtimeMs: stats.mtimeMs, sha256 };
  try {
    await mkdir(memoDir, { recursive: true });
    await writeFileAtomically(record, (handle) => handle.writeFile(JSON.stringify(memo)));
  } catch {
    // The memo only saves time: a cache folder that cannot be written costs a hash next time, not the load.
  }
  return sha256;
}
