import { setTimeout as sleep } from 'node:timers/promises';
import { AuthenticationError, DownloadError, ModelNotFoundError } from '../errors.js';

/** A failure worth retrying: a 5xx/429/408 answer, a reset or refused connection, a timeout, a stalled transfer. */
export class TransientError extends Error {
  /** How long the server asked us to wait (its Retry-After header), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options?: ErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  retries?: number;
  /** Wait before the first retry, doubled each time (default 1000 ms). */
  retryDelayMs?: number;
  /** The longest wait between two attempts, unless the server's Retry-After asks for longer (default 8000 ms). */
  maxRetryDelayMs?: number;
  signal?: AbortSignal;
}

/** A Retry-After longer than this is not waited for: the download fails at once and says when to come back. */
const MAX_RETRY_AFTER_MS = 60_000;

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

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs `attempt` until it succeeds, retrying transient failures with exponential backoff (capped, with jitter) or
 * after the wait the server asked for.
 */
export async function withRetries<T>(
  what: string,
  attempt: (attemptIndex: number) => Promise<T>,
  { retries = 5, retryDelayMs = 1000, maxRetryDelayMs = 8000, signal }: RetryOptions = {},
): Promise<T> {
  for (let index = 0; ; index++) {
    try {
      return await attempt(index);
    } catch (error) {
      signal?.throwIfAborted();
      if (!isTransient(error)) throw error;
      if (index >= retries) {
        const attempts = `${retries + 1} attempt${retries === 0 ? '' : 's'}`;
        throw new DownloadError(`${what} failed after ${attempts}: ${describe(error)}`, { cause: error });
      }
      const retryAfter = (error as TransientError).retryAfterMs ?? 0;
      if (retryAfter > MAX_RETRY_AFTER_MS) {
        throw new DownloadError(
          `${what} failed: ${describe(error)}, and the server asks to wait ${Math.ceil(retryAfter / 1000)} s before trying again`,
          { cause: error },
        );
      }
      const backoff = Math.min(maxRetryDelayMs, retryDelayMs * 2 ** index * (0.75 + Math.random() * 0.5));
      await sleep(Math.max(backoff, retryAfter), undefined, { signal });
    }
  }
}

export function describe(error: unknown): string {
  const cause = (error as Error & { cause?: Error }).cause;
  const message = (error as Error).message ?? String(error);
  return cause?.message && !message.includes(cause.message) ? `${message} (${cause.message})` : message;
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
  /** Give up when no answer arrived within this long (a TransientError); the body must be read within it too. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;

/** One HTTP request with manual redirect handling; returns the final response and its URL. */
export async function request(
  url: string,
  options: RequestOptions,
): Promise<{ response: Response; url: string }> {
  const origin = new URL(url).origin;
  const timeout = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
  const signals = [options.signal, timeout].filter((signal) => signal !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  let current = url;
  try {
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { 'accept-encoding': 'identity', ...options.headers };
      if (options.token && new URL(current).origin === origin)
        headers.authorization = `Bearer ${options.token}`;
      const response = await fetch(current, {
        method: options.method ?? 'GET',
        headers,
        redirect: 'manual',
        signal,
      });
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      const absolute = /^([a-z][a-z0-9+.-]*:)?\/\//i.test(location);
      if (options.follow === 'relative' && absolute) return { response, url: current };
      const next = new URL(location, current).toString();
      await response.body?.cancel();
      current = next;
    }
  } catch (error) {
    throw timedOut(error, timeout, options) ?? error;
  }
  throw new DownloadError(`too many redirects (more than ${MAX_REDIRECTS}) starting at ${url}`);
}

/** Our own time limit (not the caller's signal) as a TransientError, so that it is retried or falls back. */
export function timedOut(
  error: unknown,
  timeout: AbortSignal | undefined,
  options: Pick<RequestOptions, 'signal' | 'timeoutMs'>,
): TransientError | undefined {
  if (!timeout?.aborted || options.signal?.aborted) return undefined;
  return new TransientError(`no answer within ${options.timeoutMs} ms`, { cause: error });
}

export interface StatusContext {
  repoId: string;
  revision: string;
  /** What was asked for: a file's path, or 'the file list'. */
  file: string;
  tokenSent: boolean;
  /** The id could also have been a local folder that does not exist: say so when the Hub has no such repository. */
  orFolder?: boolean;
}

const TOKEN_ADVICE = 'set HF_TOKEN to a Hugging Face access token with access to it';
const TOKEN_PAGE = 'https://huggingface.co/settings/tokens';

function repositoryNotFound(context: StatusContext): ModelNotFoundError {
  const { repoId } = context;
  const folder = context.orFolder ? `no folder '${repoId}' here (${process.cwd()}), and ` : '';
  // Without a token the Hub answers 401 for a private repository and for one that does not exist alike.
  const hub = context.tokenSent
    ? `the Hub has no repository '${repoId}' that the token in HF_TOKEN can see`
    : `the Hub has no public repository '${repoId}' (if it is private, ${TOKEN_ADVICE}: ${TOKEN_PAGE})`;
  return new ModelNotFoundError(`${folder}${hub}`);
}

/** Turns a failed Hub answer into our typed error, or a TransientError when a retry may help. */
export function statusError(response: Response, context: StatusContext): Error {
  const { status } = response;
  const { repoId, revision, file } = context;
  const code = response.headers.get('x-error-code');
  if (isTransientStatus(status)) {
    return new TransientError(`the Hub answered ${status} for ${file} of ${repoId}`, {
      retryAfterMs:
        status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined,
    });
  }
  if (code === 'RepoNotFound' && (status === 404 || (status === 401 && !context.tokenSent))) {
    return repositoryNotFound(context);
  }
  if (status === 401 || status === 403 || code === 'GatedRepo') {
    const advice = context.tokenSent
      ? 'the token in HF_TOKEN does not give access to it (check the token, and accept the terms of a gated model on its Hub page)'
      : `${TOKEN_ADVICE} (${TOKEN_PAGE})`;
    return new AuthenticationError(
      `the Hub refused ${file} of ${repoId} (HTTP ${status}): the repository is private, gated or does not exist; ${advice}`,
    );
  }
  if (status === 404) {
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
