import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import {
  AuthenticationError,
  DownloadError,
  InvalidArgumentError,
  ModelNotFoundError,
  OrtVisionError,
} from '../errors.js';
import { HubCache, checkRevision, isBlobName, isCommitHash } from './cache.js';
import { checksumKind, fileChecksum, normalizeEtag } from './checksum.js';
import { defaultCacheDir, hubEndpoint, hubToken, isOffline } from './environment.js';
import {
  type RetryOptions,
  type StatusContext,
  describe,
  request,
  statusError,
  withRetries,
} from './http.js';
import { acquireLock } from './lock.js';
import { type DownloadProgress, transferToFile } from './transfer.js';

export interface HubDownloadOptions extends RetryOptions {
  /** Branch, tag or commit hash (default 'main'). */
  revision?: string;
  /** The Hub cache folder (default: HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub). */
  cacheDir?: string;
  /** Use only the cache; never touch the network (also set by HF_HUB_OFFLINE=1). */
  localFilesOnly?: boolean;
  /** Access token (default: HF_TOKEN, or the file `huggingface-cli login` wrote). */
  token?: string;
  /** The Hub's address (default: HF_ENDPOINT or https://huggingface.co). */
  endpoint?: string;
  onProgress?: (progress: DownloadProgress) => void;
  /** Abandon and retry a transfer that receives nothing for this long (default 60 s). */
  idleTimeoutMs?: number;
  /**
   * Give up on a question to the Hub (a file's metadata, a repository's file list) that gets no answer for this long,
   * then use the cache where it has the files (default: HF_HUB_ETAG_TIMEOUT seconds as in huggingface_hub, else 10 s).
   */
  metadataTimeoutMs?: number;
}

export interface FileMetadata {
  commit: string;
  etag: string;
  size: number | undefined;
  /** Where the bytes are: the resolve URL, or the CDN URL an LFS file redirects to. */
  location: string;
}

/** One repository on one Hub with one cache: what every request of a load shares. */
export interface HubContext {
  repoId: string;
  /** The revision as the caller gave it (default 'main'). */
  revision: string;
  cache: HubCache;
  endpoint: string;
  token: string | undefined;
  options: HubDownloadOptions;
}

const REPO_ID = /^[\w.-]+(\/[\w.-]+)?$/;

export function isValidRepoId(value: string): boolean {
  return REPO_ID.test(value) && !value.includes('..') && !value.startsWith('.') && !value.endsWith('.');
}

export function checkFileName(file: string): void {
  if (
    typeof file !== 'string' ||
    file === '' ||
    file.startsWith('/') ||
    file.includes('\\') ||
    file.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new InvalidArgumentError(
      `invalid file name ${JSON.stringify(file)} (expected a relative path in the repository)`,
    );
  }
}

/** Validates the repository id and revision and gathers the settings of one load. */
export function hubContext(repoId: string, options: HubDownloadOptions): HubContext {
  if (!isValidRepoId(repoId)) {
    throw new InvalidArgumentError(
      `invalid model id ${JSON.stringify(repoId)} (expected 'org/name' or a local folder)`,
    );
  }
  const revision = options.revision ?? 'main';
  checkRevision(revision);
  return {
    repoId,
    revision,
    cache: new HubCache(options.cacheDir ?? defaultCacheDir()),
    endpoint: (options.endpoint ?? hubEndpoint()).replace(/\/+$/, ''),
    token: options.token ?? hubToken(),
    options,
  };
}

export function statusContext(hub: HubContext, file: string, revision = hub.revision): StatusContext {
  return { repoId: hub.repoId, revision, file, tokenSent: hub.token !== undefined };
}

/** The metadata timeout: the option, else HF_HUB_ETAG_TIMEOUT (seconds, as huggingface_hub reads it), else 10 s. */
export function metadataTimeoutMs(options: HubDownloadOptions, env = process.env): number {
  if (options.metadataTimeoutMs !== undefined) return options.metadataTimeoutMs;
  const seconds = Number(env.HF_HUB_ETAG_TIMEOUT);
  return env.HF_HUB_ETAG_TIMEOUT && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
}

/** Why this call must not use the network, or undefined when it may. */
export function offlineReason(options: HubDownloadOptions): string | undefined {
  if (options.localFilesOnly) return 'localFilesOnly is set';
  if (isOffline()) return 'HF_HUB_OFFLINE is set';
  return undefined;
}

function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${path}`;
}

/** A header value for an error message: quoted, and short even when a hostile server sends a long one. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
}

export type MetadataResult =
  | { kind: 'found'; metadata: FileMetadata }
  | { kind: 'absent'; error: ModelNotFoundError; commit?: string }
  | { kind: 'no-revision'; error: ModelNotFoundError };

/**
 * Asks the Hub for one file's metadata (HEAD on its resolve URL at `revision`): the commit, the etag that names its
 * blob, its size and where its bytes are. Header values become paths in the cache, so a commit must be 40 hex
 * characters and an etag a hex digest, else the answer is refused (DownloadError). Absence is an answer, not an
 * error; every failure is thrown.
 */
export async function fetchMetadata(
  hub: HubContext,
  file: string,
  revision: string,
  retryOptions: RetryOptions,
): Promise<MetadataResult> {
  const url = resolveUrl(hub.endpoint, hub.repoId, revision, file);
  const context = statusContext(hub, file, revision);
  return withRetries(
    `asking ${new URL(url).origin} for ${file} of ${hub.repoId}`,
    async () => {
      const { response, url: finalUrl } = await request(url, {
        method: 'HEAD',
        follow: 'relative',
        token: hub.token,
        timeoutMs: metadataTimeoutMs(hub.options),
        signal: hub.options.signal,
      });
      const headers = response.headers;
      const code = headers.get('x-error-code');
      const commitHeader = headers.get('x-repo-commit') ?? undefined;
      if (response.status === 404 && code === 'RevisionNotFound') {
        return { kind: 'no-revision', error: statusError(response, context) as ModelNotFoundError };
      }
      if (response.status === 404 && code !== 'RepoNotFound') {
        const commit = commitHeader && isCommitHash(commitHeader) ? commitHeader : undefined;
        return { kind: 'absent', error: statusError(response, context) as ModelNotFoundError, commit };
      }
      if (response.status >= 400) throw statusError(response, context);
      const etag = normalizeEtag(headers.get('x-linked-etag') ?? headers.get('etag'));
      if (!commitHeader || !etag) {
        throw new DownloadError(
          `${finalUrl} answered without ${commitHeader ? 'an ETag' : 'an X-Repo-Commit'} header; is ${new URL(url).origin} a Hugging Face Hub (HF_ENDPOINT)?`,
        );
      }
      if (!isCommitHash(commitHeader)) {
        throw new DownloadError(
          `${finalUrl} answered with X-Repo-Commit ${quoted(commitHeader)}, which is not a 40-character hex commit hash; refusing it`,
        );
      }
      if (isCommitHash(revision) && commitHeader !== revision) {
        throw new DownloadError(
          `${finalUrl} answered for commit ${commitHeader} when asked for commit ${revision}; refusing it`,
        );
      }
      if (!isBlobName(etag)) {
        throw new DownloadError(
          `${finalUrl} answered with ETag ${quoted(etag)}, which is not a sha256 or git-sha1 hex digest; refusing it as a file name`,
        );
      }
      const location =
        response.status >= 300 && response.status < 400
          ? new URL(headers.get('location')!, finalUrl).toString()
          : finalUrl;
      const size = Number(headers.get('x-linked-size') ?? headers.get('content-length') ?? Number.NaN);
      return {
        kind: 'found',
        metadata: {
          commit: commitHeader,
          etag,
          size: Number.isSafeInteger(size) && size >= 0 ? size : undefined,
          location,
        },
      };
    },
    { ...hub.options, ...retryOptions },
  );
}

async function verify(
  path: string,
  metadata: FileMetadata,
  context: StatusContext,
): Promise<string | undefined> {
  const { size } = await stat(path);
  if (metadata.size !== undefined && size !== metadata.size) {
    return `${context.file} of ${context.repoId} has ${size} bytes, the Hub announced ${metadata.size}`;
  }
  const kind = checksumKind(metadata.etag);
  if (!kind) return undefined;
  const actual = await fileChecksum(path, kind);
  if (actual !== metadata.etag) {
    return `${context.file} of ${context.repoId} is corrupt: its ${kind} is ${actual}, the Hub's etag is ${metadata.etag}`;
  }
  return undefined;
}

/** Downloads into `partial` (continuing what it holds), checks it against the metadata, and renames it to `blob`. */
async function downloadInto(
  partial: string,
  blob: string,
  hub: HubContext,
  file: string,
  metadata: FileMetadata,
): Promise<void> {
  const context = statusContext(hub, file);
  // The token is for the Hub; an LFS file's CDN gets a signed URL instead and must not see it.
  const sameOrigin = new URL(metadata.location).origin === new URL(hub.endpoint).origin;
  await mkdir(dirname(blob), { recursive: true });
  for (let fresh = false; ; fresh = true) {
    const resumed = existsSync(partial);
    await withRetries(
      `downloading ${file} of ${hub.repoId}`,
      () =>
        transferToFile(metadata.location, partial, {
          token: sameOrigin ? hub.token : undefined,
          expectedSize: metadata.size,
          context,
          onProgress: hub.options.onProgress,
          idleTimeoutMs: hub.options.idleTimeoutMs,
          signal: hub.options.signal,
        }),
      hub.options,
    );
    const problem = await verify(partial, metadata, context);
    if (!problem) break;
    await rm(partial, { force: true });
    // A partial left by an earlier run may be what is corrupt: one clean download decides.
    if (!resumed || fresh) throw new DownloadError(`${problem}; the download was deleted, try again`);
  }
  await rename(partial, blob);
}

const HOST_TAG = createHash('sha1').update(hostname()).digest('hex').slice(0, 8);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Without a lock, each process downloads into a partial file of its own (`<blob>.<host>-<pid>.incomplete`), so that
 * no two ever write one file; a dead process's partial on this host is taken over by renaming it, which only one
 * process can do, and continued.
 */
async function ownPartial(blob: string): Promise<string> {
  const prefix = `${basename(blob)}.${HOST_TAG}-`;
  const mine = `${blob}.${HOST_TAG}-${process.pid}.incomplete`;
  if (existsSync(mine)) return mine;
  const dir = dirname(blob);
  const names = existsSync(dir) ? readdirSync(dir) : [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.incomplete')) continue;
    const pid = Number(name.slice(prefix.length, -'.incomplete'.length));
    if (!Number.isSafeInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    try {
      await rename(join(dir, name), mine);
      return mine;
    } catch {
      // Another process took it over first.
    }
  }
  return mine;
}

/**
 * Puts the file's blob into the cache and links it into the commit's snapshot. Under huggingface_hub's lock where
 * flock is available: one process downloads into `<blob>.incomplete` (continuing what a killed one left, Python's
 * included) and links; the others wait and find it done. Without it, see `ownPartial`: a file may then be downloaded
 * more than once at the same time, and the rename still leaves one intact blob.
 */
async function downloadBlob(hub: HubContext, file: string, metadata: FileMetadata): Promise<void> {
  const { cache, repoId } = hub;
  const blob = cache.blobPath(repoId, metadata.etag);
  const lock = await acquireLock(cache.lockPath(repoId, metadata.etag), { signal: hub.options.signal });
  try {
    if (!existsSync(blob)) {
      const partial = lock ? `${blob}.incomplete` : await ownPartial(blob);
      await downloadInto(partial, blob, hub, file, metadata);
    }
    await cache.linkSnapshot(repoId, metadata.commit, file, metadata.etag);
  } finally {
    await lock?.release();
  }
}

// One download per blob at a time in this process: concurrent callers wait for the first.
const inFlight = new Map<string, Promise<void>>();

/**
 * The snapshot entry of `file` at the metadata's commit, downloading its blob when the cache does not have it. A
 * snapshot entry that exists is returned as it is.
 */
export async function storeFile(hub: HubContext, file: string, metadata: FileMetadata): Promise<string> {
  const { cache, repoId } = hub;
  const pointer = cache.snapshotPath(repoId, metadata.commit, file);
  if (existsSync(pointer)) return pointer;
  try {
    const blob = cache.blobPath(repoId, metadata.etag);
    if (existsSync(blob)) return await cache.linkSnapshot(repoId, metadata.commit, file, metadata.etag);
    let download = inFlight.get(blob);
    if (!download) {
      download = downloadBlob(hub, file, metadata).finally(() => inFlight.delete(blob));
      inFlight.set(blob, download);
    }
    await download;
    return await cache.linkSnapshot(repoId, metadata.commit, file, metadata.etag);
  } catch (error) {
    throw cacheWriteError(error, file, hub);
  }
}

/** A file the cache does not have while the Hub cannot be asked (offline, or the question failed). */
export function notCachedError(
  hub: HubContext,
  file: string,
  why: { offline: string } | { failure: unknown },
): OrtVisionError {
  const head = `${file} of ${hub.repoId} (revision '${hub.revision}') is not in the Hub cache`;
  if ('offline' in why) {
    return new ModelNotFoundError(`${head}, and ${why.offline}; download it once with network access first`);
  }
  const { failure } = why;
  // A refusal keeps its type (a token to fix, a repository that does not exist); a network failure says both.
  if (failure instanceof AuthenticationError || failure instanceof ModelNotFoundError) return failure;
  return new DownloadError(`${head}, and asking the Hub failed: ${describe(failure)}`, { cause: failure });
}

const warned = new Set<string>();

/** Says once per process and cause that a load uses the cache because the Hub could not be asked. */
export function warnCacheFallback(hub: HubContext, commit: string, failure: unknown): void {
  const refused = failure instanceof AuthenticationError || failure instanceof ModelNotFoundError;
  const message = `${hub.repoId} (revision '${hub.revision}'): using the cached snapshot ${commit.slice(0, 12)}, because ${
    refused ? 'the Hub refused the request' : 'the Hub could not be reached'
  }: ${describe(failure)}`;
  const key = `${hub.endpoint} ${hub.repoId} ${hub.revision} ${refused}`;
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(message, { type: 'OrtVisionWarning', code: 'ORTVISION_HUB_CACHE_FALLBACK' });
}

/**
 * The local path of one file of a Hub model repository, downloading it into the cache when needed (what
 * huggingface_hub's `hf_hub_download` does: one HEAD request for the file at the revision). When the Hub cannot be
 * asked (unreachable, no answer within `metadataTimeoutMs`, 5xx, or a refused token), a cached copy at the
 * revision's last known commit is used, with a warning. With `optional`, a file the repository does not have gives
 * undefined. To load several files of one model at one commit, use `openModelRepo`.
 *
 * @example
 * const path = await hubDownload('Xenova/vit-base-patch16-224', 'config.json');
 */
export async function hubDownload(
  repoId: string,
  file: string,
  options: HubDownloadOptions & { optional?: boolean } = {},
): Promise<string | undefined> {
  const hub = hubContext(repoId, options);
  checkFileName(file);
  const { cache, revision } = hub;
  const cached = cache.lookup(repoId, revision, file);
  // A commit's files never change, so a cached one needs no question to the Hub (as in huggingface_hub).
  if (cached.state === 'cached' && isCommitHash(revision)) return cached.path;
  const offline = offlineReason(options);
  if (offline) {
    if (cached.state === 'cached') return cached.path;
    if (cached.state === 'absent' && options.optional) return undefined;
    throw notCachedError(hub, file, { offline });
  }
  let result: MetadataResult;
  try {
    // With a cached copy to fall back on, one attempt: an outage costs one timeout, not six with backoff.
    result = await fetchMetadata(hub, file, revision, cached.state === 'unknown' ? {} : { retries: 0 });
  } catch (error) {
    options.signal?.throwIfAborted();
    if (cached.state === 'cached') {
      warnCacheFallback(hub, cache.commitFor(repoId, revision)!, error);
      return cached.path;
    }
    if (cached.state === 'absent' && options.optional) return undefined;
    throw error;
  }
  if (result.kind === 'no-revision') throw result.error;
  try {
    if (result.kind === 'absent') {
      if (result.commit) {
        await cache.writeRef(repoId, revision, result.commit);
        await cache.markAbsent(repoId, result.commit, file);
      }
      if (options.optional) return undefined;
      throw result.error;
    }
    await cache.writeRef(repoId, revision, result.metadata.commit);
  } catch (error) {
    throw cacheWriteError(error, file, hub);
  }
  return storeFile(hub, file, result.metadata);
}

/**
 * A file-system failure while writing the cache (a full disk, a read-only folder) as a DownloadError naming the
 * file and the folder; a partial download stays as `.incomplete`, which no lookup takes for a finished file.
 */
export function cacheWriteError(error: unknown, file: string, hub: HubContext): unknown {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (error instanceof OrtVisionError || typeof code !== 'string' || typeof syscall !== 'string')
    return error;
  return new DownloadError(
    `cannot write ${file} of ${hub.repoId} into the Hub cache ${hub.cache.root}: ${(error as Error).message}`,
    { cause: error },
  );
}
