import { setTimeout as sleep } from 'node:timers/promises';
import { AuthenticationError, DownloadError, ModelNotFoundError } from '../errors.js';

/** A failure worth retrying: a 5xx/429/408 answer, a reset connection, a stalled transfer. */
export class TransientError extends Error {}

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** Wait before the first retry, doubled each time (default 1000 ms). */
  retryDelayMs?: number;
  signal?: AbortSignal;
}

const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status) || status >= 500;
}

/** fetch's own failures (reset, refused, terminated body) arrive as TypeError; ours as TransientError. */
function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  if (error instanceof TypeError) return true;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'EPIPE' || code === 'ETIMEDOUT';
}

/** Runs `attempt` until it succeeds, retrying transient failures with exponential backoff and jitter. */
export async function withRetries<T>(
  what: string,
  attempt: (attemptIndex: number) => Promise<T>,
  { retries = 5, retryDelayMs = 1000, signal }: RetryOptions = {},
): Promise<T> {
  for (let index = 0; ; index++) {
    try {
      return await attempt(index);
    } catch (error) {
      signal?.throwIfAborted();
      if (!isTransient(error)) throw error;
      if (index >= retries) {
        throw new DownloadError(`${what} failed after ${retries + 1} attempts: ${describe(error)}`, {
          cause: error,
        });
      }
      const delay = retryDelayMs * 2 ** index * (0.75 + Math.random() * 0.5);
      await sleep(delay, undefined, { signal });
    }
  }
}

function describe(error: unknown): string {
  const cause = (error as Error & { cause?: Error }).cause;
  const message = (error as Error).message ?? String(error);
  return cause?.message ? `${message} (${cause.message})` : message;
}

export interface RequestOptions {
  method?: 'GET' | 'HEAD';
  headers?: Record<string, string>;
  /** Bearer token, sent to the first URL's origin only (never to a CDN a redirect points at). */
  token?: string;
  /** 'relative': follow only redirects whose Location is a relative URL (the Hub's renamed repositories), as
   *  huggingface_hub's HEAD does, and hand back an absolute one (an LFS file's CDN URL, where the download goes);
   *  'all': follow every redirect. */
  follow: 'relative' | 'all';
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;

/** One HTTP request with manual redirect handling; returns the final response and its URL. */
export async function request(
  url: string,
  options: RequestOptions,
): Promise<{ response: Response; url: string }> {
  const origin = new URL(url).origin;
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
    if (options.token && new URL(current).origin === origin)
      headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(current, {
      method: options.method ?? 'GET',
      headers,
      redirect: 'manual',
      signal: options.signal,
    });
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
    const absolute = /^([a-z][a-z0-9+.-]*:)?\/\//i.test(location);
    if (options.follow === 'relative' && absolute) return { response, url: current };
    const next = new URL(location, current).toString();
    await response.body?.cancel();
    current = next;
  }
  throw new DownloadError(`too many redirects (more than ${MAX_REDIRECTS}) starting at ${url}`);
}

export interface StatusContext {
  repoId: string;
  revision: string;
  file: string;
  tokenSent: boolean;
}

/** Turns a failed Hub answer into our typed error, or a TransientError when a retry may help. */
export function statusError(response: Response, context: StatusContext): Error {
  const { status } = response;
  const { repoId, revision, file } = context;
  const code = response.headers.get('x-error-code');
  if (isTransientStatus(status))
    return new TransientError(`the Hub answered ${status} for ${file} of ${repoId}`);
  if (status === 401 || status === 403 || code === 'GatedRepo') {
    const advice = context.tokenSent
      ? 'the token in HF_TOKEN does not give access to it (check the token, and accept the terms of a gated model on its Hub page)'
      : 'set HF_TOKEN to a Hugging Face access token with access to it (https://huggingface.co/settings/tokens)';
    return new AuthenticationError(
      `the Hub refused ${file} of ${repoId} (HTTP ${status}): the repository is private, gated or does not exist; ${advice}`,
    );
  }
  if (status === 404) {
    if (code === 'RepoNotFound')
      return new ModelNotFoundError(`model repository ${repoId} not found on the Hub`);
    if (code === 'RevisionNotFound') {
      return new ModelNotFoundError(`revision '${revision}' not found in model repository ${repoId}`);
    }
    return new ModelNotFoundError(
      `file ${file} not found in model repository ${repoId} at revision '${revision}'`,
    );
  }
  return new DownloadError(
    `the Hub answered HTTP ${status} for ${file} of ${repoId} at revision '${revision}'`,
  );
}
