import { existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DownloadError, InvalidArgumentError, ModelNotFoundError, OrtVisionError } from '../errors.js';
import { HubCache, isCommitHash } from './cache.js';
import { checksumKind, fileChecksum, normalizeEtag } from './checksum.js';
import { defaultCacheDir, hubEndpoint, hubToken, isOffline } from './environment.js';
import {
  type RetryOptions,
  type StatusContext,
  TransientError,
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
}

interface FileMetadata {
  commit: string;
  etag: string;
  size: number | undefined;
  /** Where the bytes are: the resolve URL, or the CDN URL an LFS file redirects to. */
  location: string;
}

const REPO_ID = /^[\w.-]+(\/[\w.-]+)?$/;

export function isValidRepoId(value: string): boolean {
  return REPO_ID.test(value) && !value.includes('..') && !value.startsWith('.') && !value.endsWith('.');
}

function checkFileName(file: string): void {
  if (file === '' || file.startsWith('/') || file.split('/').some((part) => part === '..' || part === '')) {
    throw new InvalidArgumentError(
      `invalid file name ${JSON.stringify(file)} (expected a relative path in the repository)`,
    );
  }
}

function resolveUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${path}`;
}

type MetadataResult =
  | { found: true; metadata: FileMetadata }
  | { found: false; error: ModelNotFoundError; commit?: string };

async function fetchMetadata(
  url: string,
  token: string | undefined,
  context: StatusContext,
  options: HubDownloadOptions,
): Promise<MetadataResult> {
  return withRetries(
    `asking ${new URL(url).origin} for ${context.file} of ${context.repoId}`,
    async () => {
      const { response, url: finalUrl } = await request(url, {
        method: 'HEAD',
        follow: 'relative',
        token,
        signal: options.signal,
      });
      const headers = response.headers;
      const commit = headers.get('x-repo-commit') ?? undefined;
      if (
        response.status === 404 &&
        headers.get('x-error-code') !== 'RepoNotFound' &&
        headers.get('x-error-code') !== 'RevisionNotFound'
      ) {
        return { found: false, error: statusError(response, context) as ModelNotFoundError, commit };
      }
      if (response.status >= 400) throw statusError(response, context);
      const etag = normalizeEtag(headers.get('x-linked-etag') ?? headers.get('etag'));
      if (!commit || !etag) {
        throw new DownloadError(
          `${finalUrl} answered without ${commit ? 'an ETag' : 'an X-Repo-Commit'} header; is ${new URL(url).origin} a Hugging Face Hub (HF_ENDPOINT)?`,
        );
      }
      const location =
        response.status >= 300 && response.status < 400
          ? new URL(headers.get('location')!, finalUrl).toString()
          : finalUrl;
      const size = Number(headers.get('x-linked-size') ?? headers.get('content-length') ?? Number.NaN);
      return {
        found: true,
        metadata: { commit, etag, size: Number.isFinite(size) ? size : undefined, location },
      };
    },
    options,
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

async function downloadBlob(
  cache: HubCache,
  metadata: FileMetadata,
  token: string | undefined,
  context: StatusContext,
  options: HubDownloadOptions,
): Promise<void> {
  const blob = cache.blobPath(context.repoId, metadata.etag);
  if (existsSync(blob)) return;
  const lock = await acquireLock(cache.lockPath(context.repoId, metadata.etag), { signal: options.signal });
  try {
    // Another process may have finished it while we waited for the lock.
    if (existsSync(blob)) return;
    const incomplete = `${blob}.incomplete`;
    await mkdir(dirname(blob), { recursive: true });
    for (let fresh = false; ; fresh = true) {
      const resumed = existsSync(incomplete);
      await withRetries(
        `downloading ${context.file} of ${context.repoId}`,
        () =>
          transferToFile(metadata.location, incomplete, {
            token,
            expectedSize: metadata.size,
            context,
            onProgress: options.onProgress,
            onChunk: () => lock.touch(),
            idleTimeoutMs: options.idleTimeoutMs,
            signal: options.signal,
          }),
        options,
      );
      const problem = await verify(incomplete, metadata, context);
      if (!problem) break;
      await rm(incomplete, { force: true });
      // A partial left by an earlier run may be what is corrupt: one clean download decides.
      if (!resumed || fresh) throw new DownloadError(`${problem}; the download was deleted, try again`);
    }
    await rename(incomplete, blob);
  } finally {
    await lock.release();
  }
}

function notCached(repoId: string, revision: string, file: string, why: string): ModelNotFoundError {
  return new ModelNotFoundError(
    `${file} of ${repoId} (revision '${revision}') is not in the Hub cache, and ${why}; download it once with network access first`,
  );
}

/**
 * The local path of one file of a Hub model repository, downloading it into the cache when needed (what
 * huggingface_hub's `hf_hub_download` does). With `optional`, a file the repository does not have gives undefined.
 */
export async function hubDownload(
  repoId: string,
  file: string,
  options: HubDownloadOptions & { optional?: boolean } = {},
): Promise<string | undefined> {
  if (!isValidRepoId(repoId)) {
    throw new InvalidArgumentError(
      `invalid model id ${JSON.stringify(repoId)} (expected 'org/name' or a local folder)`,
    );
  }
  checkFileName(file);
  const revision = options.revision ?? 'main';
  const cacheRoot = options.cacheDir ?? defaultCacheDir();
  const cache = new HubCache(cacheRoot);
  const cached = cache.lookup(repoId, revision, file);
  // A commit's files never change, so a cached one needs no question to the Hub (as in huggingface_hub).
  if (cached.state === 'cached' && isCommitHash(revision)) return cached.path;
  if (options.localFilesOnly || isOffline()) {
    if (cached.state === 'cached') return cached.path;
    if (cached.state === 'absent' && options.optional) return undefined;
    const why = options.localFilesOnly ? 'localFilesOnly is set' : 'HF_HUB_OFFLINE is set';
    throw notCached(repoId, revision, file, why);
  }
  const endpoint = (options.endpoint ?? hubEndpoint()).replace(/\/+$/, '');
  const token = options.token ?? hubToken();
  const context: StatusContext = { repoId, revision, file, tokenSent: token !== undefined };
  let result: MetadataResult;
  try {
    result = await fetchMetadata(resolveUrl(endpoint, repoId, revision, file), token, context, options);
  } catch (error) {
    // Offline or the Hub is down: a cached copy is as good as huggingface_hub considers it.
    const unreachable = error instanceof DownloadError || error instanceof TransientError;
    if (unreachable && cached.state === 'cached') return cached.path;
    if (unreachable && cached.state === 'absent' && options.optional) return undefined;
    throw error;
  }
  try {
    if (!result.found) {
      if (result.commit) {
        await cache.writeRef(repoId, revision, result.commit);
        await cache.markAbsent(repoId, result.commit, file);
      }
      if (options.optional) return undefined;
      throw result.error;
    }
    const { metadata } = result;
    await cache.writeRef(repoId, revision, metadata.commit);
    const pointer = cache.snapshotPath(repoId, metadata.commit, file);
    if (existsSync(pointer)) return pointer;
    // The token is for the Hub; an LFS file's CDN gets a signed URL instead and must not see it.
    const sameOrigin = new URL(metadata.location).origin === new URL(endpoint).origin;
    await downloadBlob(cache, metadata, sameOrigin ? token : undefined, context, options);
    return await cache.linkSnapshot(repoId, metadata.commit, file, metadata.etag);
  } catch (error) {
    throw cacheWriteError(error, context, cacheRoot);
  }
}

/**
 * A file-system failure while writing the cache (a full disk, a read-only folder) as a DownloadError naming the
 * file and the folder; a partial download stays as `.incomplete`, which no lookup takes for a finished file.
 */
function cacheWriteError(error: unknown, context: StatusContext, cacheRoot: string): unknown {
  const { code, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  if (error instanceof OrtVisionError || typeof code !== 'string' || typeof syscall !== 'string')
    return error;
  return new DownloadError(
    `cannot write ${context.file} of ${context.repoId} into the Hub cache ${cacheRoot}: ${(error as Error).message}`,
    { cause: error },
  );
}
