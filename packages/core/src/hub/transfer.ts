import { existsSync } from 'node:fs';
import { open, rm, stat } from 'node:fs/promises';
import { DownloadError } from '../errors.js';
import { type RequestOptions, TransientError, request, statusError } from './http.js';
import type { StatusContext } from './http.js';

/** One step of a download, for progress bars. `total` is undefined when the server does not say. */
export interface DownloadProgress {
  /** The file's path in the repository (e.g. `onnx/model.onnx`). */
  file: string;
  loaded: number;
  total: number | undefined;
}

export interface TransferOptions {
  token?: string;
  expectedSize?: number;
  context: StatusContext;
  onProgress?: (progress: DownloadProgress) => void;
  /** A transfer that receives nothing for this long is abandoned and retried (default 60 s). */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
}

async function partialSize(path: string): Promise<number> {
  return existsSync(path) ? (await stat(path)).size : 0;
}

/**
 * Downloads `url` into `path`, continuing a partial file with an HTTP Range request. Throws TransientError when
 * the transfer breaks off, so that the caller's retry resumes it.
 */
export async function transferToFile(url: string, path: string, options: TransferOptions): Promise<void> {
  const { expectedSize, context } = options;
  let start = await partialSize(path);
  if (expectedSize !== undefined && start > expectedSize) {
    await rm(path, { force: true });
    start = 0;
  }
  if (expectedSize !== undefined && start === expectedSize && start > 0) return;

  const idle = new AbortController();
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const armIdleTimer = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => idle.abort(new TransientError(`no data received for ${idleTimeoutMs} ms from ${url}`)),
      idleTimeoutMs,
    );
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  const requestOptions: RequestOptions = {
    follow: 'all',
    token: options.token,
    headers: start > 0 ? { range: `bytes=${start}-` } : {},
    signal,
  };
  armIdleTimer();
  try {
    const { response } = await request(url, requestOptions);
    if (response.status === 416) {
      // The partial file does not fit what the server has now: start over.
      await response.body?.cancel();
      await rm(path, { force: true });
      throw new TransientError(`the server refused to resume ${context.file} at byte ${start}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw statusError(response, context);
    }
    const resumed =
      response.status === 206 && (response.headers.get('content-range') ?? '').startsWith(`bytes ${start}-`);
    if (response.status === 206 && !resumed) {
      await response.body?.cancel();
      await rm(path, { force: true });
      throw new TransientError(`the server resumed ${context.file} at the wrong byte`);
    }
    let loaded = resumed ? start : 0;
    const lengthHeader = response.headers.get('content-length');
    const length = lengthHeader === null ? undefined : Number(lengthHeader);
    const sent =
      length !== undefined && Number.isSafeInteger(length) && length >= 0 ? loaded + length : undefined;
    if (expectedSize !== undefined && sent !== undefined && sent !== expectedSize) {
      // Not a broken transfer but two answers that disagree: no retry can reconcile them.
      await response.body?.cancel();
      throw new DownloadError(
        `${context.file} of ${context.repoId}: the Hub announced ${expectedSize} bytes, its download has ${sent}`,
      );
    }
    const total = expectedSize ?? sent;
    const handle = await open(path, resumed ? 'a' : 'w');
    try {
      options.onProgress?.({ file: context.file, loaded, total });
      if (response.body) {
        for await (const chunk of response.body) {
          armIdleTimer();
          if (total !== undefined && loaded + chunk.byteLength > total) {
            throw new DownloadError(
              `${context.file} of ${context.repoId}: the download goes past the ${total} bytes the Hub announced`,
            );
          }
          await handle.write(chunk);
          loaded += chunk.byteLength;
          options.onProgress?.({ file: context.file, loaded, total });
        }
      }
    } finally {
      await handle.close();
    }
    if (total !== undefined && loaded !== total) {
      throw new TransientError(`received ${loaded} of ${total} bytes of ${context.file}`);
    }
  } catch (error) {
    // An abort by our idle timer surfaces as its reason or wrapped in the fetch error.
    if (idle.signal.aborted && !options.signal?.aborted) throw idle.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
