import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DownloadError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { isCommitHash } from './cache.js';
import { type RetryOptions, request, statusError, withRetries } from './http.js';
import {
  type HubContext,
  type HubDownloadOptions,
  cacheWriteError,
  checkFileName,
  fetchMetadata,
  hubContext,
  isValidRepoId,
  metadataTimeoutMs,
  notCachedError,
  offlineReason,
  statusContext,
  storeFile,
  warnCacheFallback,
} from './hub-file.js';

/**
 * A model's files as one load sees them: a local folder, or a Hub repository at one commit. For a Hub id the
 * revision is resolved once, when the repository is opened, together with the list of its files (one request), so
 * every file of the load comes from that commit and "is there a file X" needs no request.
 *
 * @example
 * const repo = await openModelRepo('Xenova/vit-base-patch16-224');
 * repo.commit; // '3f49326...' (40 hex), undefined for a folder
 * if (repo.has('onnx/model_quantized.onnx')) console.log('a q8 variant exists');
 * const config = await repo.file('config.json'); // a local path, downloaded into the cache when needed
 * const tokenizer = await repo.file('tokenizer.json', { optional: true }); // undefined when absent
 */
export interface ModelRepo {
  /** 'local' for a folder on disk, 'hub' for a Hub repository (files come from the Hub cache). */
  readonly source: 'local' | 'hub';
  /** The folder or the Hub id as given. */
  readonly idOrPath: string;
  /** The revision asked for (default 'main'); undefined for a folder. */
  readonly revision: string | undefined;
  /** The 40-hex commit every file comes from; undefined for a folder, or offline when the cache knows no commit. */
  readonly commit: string | undefined;
  /**
   * Every file the repository has, `/`-separated (for a Hub repository: the Hub's list at `commit`). When the Hub
   * could not be asked (offline, unreachable) it is what the cached snapshot holds, and `complete` is false.
   */
  readonly files: readonly string[];
  /** False when `files` is what the cache holds rather than the repository's own list. */
  readonly complete: boolean;
  /** Whether the repository has the file (from the list, without a request). */
  has(path: string): boolean;
  /** The local path of a file, downloaded at `commit` into the cache when needed; ModelNotFoundError when absent. */
  file(path: string): Promise<string>;
  /** The same, or undefined when the repository does not have the file. */
  file(path: string, options: { optional: boolean }): Promise<string | undefined>;
}

export interface OpenModelRepoOptions extends HubDownloadOptions {
  /**
   * A repository already opened for this model: it is used as is (same commit, no request), so that the loaders of
   * one model (config, graphs, processor, tokenizer) share one snapshot. Its `idOrPath` must be the one asked for.
   */
  repo?: ModelRepo;
}

function looksLikePath(value: string): boolean {
  return (
    value.startsWith('.') ||
    value.startsWith('/') ||
    value.startsWith('~') ||
    value.includes('\\') ||
    /^[a-zA-Z]:/.test(value) ||
    value.split('/').length > 2
  );
}

/** A short listing for error messages: the top-level files and those in `onnx/`, sorted. */
export function summarizeFiles(files: readonly string[]): string {
  const shown = files.filter((file) => !file.includes('/') || /^onnx\/[^/]+$/.test(file)).sort();
  return shown.length ? shown.join(', ') : 'nothing';
}

/** A short listing of a local folder for error messages (files and `onnx/` files). */
export function describeFolder(dir: string): string {
  const list = (sub: string) => {
    const path = join(dir, sub);
    if (!existsSync(path) || !statSync(path).isDirectory()) return [];
    return readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => (sub ? `${sub}/${entry.name}` : entry.name));
  };
  return summarizeFiles([...list(''), ...list('onnx')]);
}

/** Every file under a folder, `/`-separated, skipping `.git`; bounded, as a folder given by mistake may be huge. */
function walkFolder(dir: string, limit = 10_000): string[] {
  const out: string[] = [];
  const walk = (sub: string) => {
    for (const entry of readdirSync(join(dir, sub), { withFileTypes: true })) {
      if (out.length >= limit) return;
      const path = sub ? `${sub}/${entry.name}` : entry.name;
      const info = entry.isSymbolicLink() ? statSync(join(dir, path), { throwIfNoEntry: false }) : entry;
      if (info?.isDirectory() && entry.name !== '.git') walk(path);
      else if (info?.isFile()) out.push(path);
    }
  };
  walk('');
  return out.sort();
}

class LocalRepo implements ModelRepo {
  readonly source = 'local';
  readonly revision = undefined;
  readonly commit = undefined;
  readonly complete = true;
  readonly idOrPath: string;
  readonly #dir: string;
  #files: string[] | undefined;

  constructor(idOrPath: string, dir: string) {
    this.idOrPath = idOrPath;
    this.#dir = dir;
  }

  get files(): readonly string[] {
    this.#files ??= walkFolder(this.#dir);
    return this.#files;
  }

  // A folder is asked at the time of the question (a stat, no request): it may change on disk. Whatever is there
  // counts, so that a folder where a file should be is reported by the reader that fails on it.
  has(path: string): boolean {
    return existsSync(join(this.#dir, ...path.split('/')));
  }

  file(path: string): Promise<string>;
  file(path: string, options: { optional: boolean }): Promise<string | undefined>;
  async file(path: string, options: { optional?: boolean } = {}): Promise<string | undefined> {
    if (this.has(path)) return join(this.#dir, ...path.split('/'));
    if (options.optional) return undefined;
    throw new ModelNotFoundError(
      `${path} not found in the model folder ${this.#dir} (it has: ${describeFolder(this.#dir)})`,
    );
  }
}

/** Why a Hub repository's list came from the cache, for the errors of files the cache lacks. */
type Fallback = { offline: string } | { failure: unknown };

class HubRepo implements ModelRepo {
  readonly source = 'hub';
  readonly idOrPath: string;
  readonly revision: string;
  readonly commit: string | undefined;
  readonly complete: boolean;
  readonly #hub: HubContext;
  readonly #files: Set<string>;
  readonly #fallback: Fallback | undefined;
  readonly #pending = new Map<string, Promise<string | undefined>>();

  constructor(hub: HubContext, commit: string | undefined, files: readonly string[], fallback?: Fallback) {
    this.idOrPath = hub.repoId;
    this.revision = hub.revision;
    this.#hub = hub;
    this.commit = commit;
    this.#files = new Set(files);
    this.complete = fallback === undefined;
    this.#fallback = fallback;
  }

  get files(): readonly string[] {
    return [...this.#files].sort();
  }

  has(path: string): boolean {
    if (this.#files.has(path)) return true;
    // Offline, the list is what the cache held at opening; another process may have downloaded more since.
    const pointer = this.complete ? undefined : this.#snapshotPath(path);
    return pointer !== undefined && existsSync(pointer);
  }

  #snapshotPath(path: string): string | undefined {
    return this.commit === undefined
      ? undefined
      : this.#hub.cache.snapshotPath(this.#hub.repoId, this.commit, path);
  }

  file(path: string): Promise<string>;
  file(path: string, options: { optional: boolean }): Promise<string | undefined>;
  file(path: string, options: { optional?: boolean } = {}): Promise<string | undefined> {
    checkFileName(path);
    const key = `${options.optional ? '?' : '!'}${path}`;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetch(path, options.optional ?? false);
      this.#pending.set(key, pending);
      pending.catch(() => this.#pending.delete(key));
    }
    return pending;
  }

  async #fetch(path: string, optional: boolean): Promise<string | undefined> {
    const hub = this.#hub;
    const { cache, repoId } = hub;
    const pointer = this.#snapshotPath(path);
    if (pointer && existsSync(pointer)) return pointer;
    if (this.#fallback) {
      if (optional && this.commit && cache.isMarkedAbsent(repoId, this.commit, path)) return undefined;
      throw notCachedError(hub, path, this.#fallback);
    }
    const commit = this.commit!;
    if (!this.#files.has(path)) {
      // Remembered as huggingface_hub does, so that an offline load knows the file is absent, not just uncached.
      await cache.markAbsent(repoId, commit, path).catch(() => {});
      if (optional) return undefined;
      throw new ModelNotFoundError(
        `file ${path} not found in model repository ${repoId} at revision '${this.revision}'`,
      );
    }
    const result = await fetchMetadata(hub, path, commit, {});
    if (result.kind !== 'found') {
      // The list named it, the commit does not have it: the Hub contradicts itself; believe the later answer.
      if (optional) return undefined;
      throw result.error;
    }
    return storeFile(hub, path, result.metadata);
  }
}

// A commit's file list never changes: asked once per process (a model and its processor share it).
const listings = new Map<string, readonly string[]>();

function listingUrl(hub: HubContext): string {
  return `${hub.endpoint}/api/models/${hub.repoId}/revision/${encodeURIComponent(hub.revision)}`;
}

/** Reads the Hub's `{ sha, siblings: [{ rfilename }] }`, refusing a commit or a file name that is not safe. */
function parseListing(json: unknown, url: string): { commit: string; files: string[] } {
  const { sha, siblings } = (json ?? {}) as { sha?: unknown; siblings?: unknown };
  if (typeof sha !== 'string' || !isCommitHash(sha)) {
    throw new DownloadError(
      `${url} answered with sha ${JSON.stringify(sha)?.slice(0, 80)}, which is not a 40-character hex commit hash`,
    );
  }
  if (!Array.isArray(siblings)) throw new DownloadError(`${url} answered without a siblings list`);
  const files = siblings.map((sibling) => (sibling as { rfilename?: unknown } | null)?.rfilename);
  for (const file of files) {
    try {
      checkFileName(file as string);
    } catch {
      throw new DownloadError(
        `${url} lists the file ${JSON.stringify(file)?.slice(0, 80)}, which is not a safe path; refusing the list`,
      );
    }
  }
  return { commit: sha, files: files as string[] };
}

type Listing = { kind: 'listed'; commit: string; files: string[] } | { kind: 'no-revision'; error: Error };

/** Asks the Hub's model/revision endpoint for the commit of the revision and the files it has (one request). */
async function fetchListing(hub: HubContext, retryOptions: RetryOptions): Promise<Listing> {
  const url = listingUrl(hub);
  const context = { ...statusContext(hub, 'the file list'), orFolder: true };
  return withRetries(
    `asking ${new URL(url).origin} for the files of ${hub.repoId} at revision '${hub.revision}'`,
    async () => {
      const timeoutMs = metadataTimeoutMs(hub.options);
      const { response } = await request(url, {
        follow: 'relative',
        token: hub.token,
        timeoutMs,
        signal: hub.options.signal,
        headers: { accept: 'application/json' },
      });
      if (response.status === 404 && response.headers.get('x-error-code') === 'RevisionNotFound') {
        await response.body?.cancel();
        return { kind: 'no-revision', error: statusError(response, context) };
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw statusError(response, context);
      }
      let json: unknown;
      try {
        json = JSON.parse(await response.text());
      } catch (error) {
        if (error instanceof SyntaxError)
          throw new DownloadError(`${url} answered with something else than JSON`);
        throw error;
      }
      return { kind: 'listed', ...parseListing(json, url) };
    },
    { ...hub.options, ...retryOptions },
  );
}

/** The repository as the cache holds it at the revision's last known commit, when the Hub cannot be asked. */
function cachedRepo(hub: HubContext, fallback: Fallback): HubRepo {
  const commit = hub.cache.commitFor(hub.repoId, hub.revision);
  const files = commit ? hub.cache.snapshotFiles(hub.repoId, commit) : [];
  return new HubRepo(hub, commit, files, fallback);
}

async function openHubRepo(hub: HubContext): Promise<ModelRepo> {
  const { cache, repoId, revision } = hub;
  const offline = offlineReason(hub.options);
  if (offline) return cachedRepo(hub, { offline });
  const known = cache.commitFor(repoId, revision);
  const memoKey = (commit: string) => `${hub.endpoint} ${repoId} ${commit}`;
  const memo = isCommitHash(revision) ? listings.get(memoKey(revision)) : undefined;
  if (memo) return new HubRepo(hub, revision, memo);
  const warm = known !== undefined && cache.hasSnapshot(repoId, known);
  let listing: Listing;
  try {
    // With a snapshot to fall back on, one attempt: an outage costs one timeout, not six with backoff.
    listing = await fetchListing(hub, warm ? { retries: 0 } : {});
  } catch (error) {
    hub.options.signal?.throwIfAborted();
    if (!warm) throw error;
    warnCacheFallback(hub, known, error);
    return cachedRepo(hub, { failure: error });
  }
  if (listing.kind === 'no-revision') throw listing.error;
  try {
    await cache.writeRef(repoId, revision, listing.commit);
  } catch (error) {
    throw cacheWriteError(error, `refs/${revision}`, hub);
  }
  listings.set(memoKey(listing.commit), listing.files);
  return new HubRepo(hub, listing.commit, listing.files);
}

/**
 * Opens a model's files for one load: an existing folder as it is, anything else as a Hub id (`org/name`) whose
 * revision is resolved to one commit now, with its file list (unless `localFilesOnly` / HF_HUB_OFFLINE=1, or the Hub
 * cannot be asked and the cache has a snapshot of the revision: then the cached snapshot, with a warning).
 *
 * @example
 * const repo = await openModelRepo('Xenova/vit-base-patch16-224', { revision: 'main' });
 * const graph = await repo.file('onnx/model.onnx');
 * const processor = await ViTImageProcessor.fromPretrained(repo.idOrPath, { repo }); // same commit, no request
 */
export async function openModelRepo(
  idOrPath: string,
  options: OpenModelRepoOptions = {},
): Promise<ModelRepo> {
  if (options.repo) {
    if (options.repo.idOrPath !== idOrPath) {
      throw new InvalidArgumentError(
        `the repo option was opened for ${JSON.stringify(options.repo.idOrPath)}, not ${JSON.stringify(idOrPath)}`,
      );
    }
    return options.repo;
  }
  if (typeof idOrPath !== 'string' || idOrPath === '') {
    throw new InvalidArgumentError(`expected a model id or folder path, got ${JSON.stringify(idOrPath)}`);
  }
  if (existsSync(idOrPath)) {
    const dir = resolve(idOrPath);
    if (!statSync(dir).isDirectory()) {
      throw new ModelNotFoundError(`${idOrPath} is a file; expected a model folder or a Hub id`);
    }
    return new LocalRepo(idOrPath, dir);
  }
  if (looksLikePath(idOrPath) || !isValidRepoId(idOrPath)) {
    throw new ModelNotFoundError(
      `${idOrPath} is neither an existing folder nor a Hub model id ('org/name'); check the path`,
    );
  }
  // The id could as well be a folder that is not here: an error saying the Hub has no such repository says so.
  return openHubRepo(hubContext(idOrPath, options));
}
