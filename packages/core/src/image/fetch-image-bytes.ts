import { AbortedError, DownloadError, InvalidImageError, OrtVisionError } from '../errors.js';
import { request } from '../hub/http.js';
import { imageHeaderSize } from './header-size.js';
import { checkInputPixels } from './limits.js';

/** The limits one URL read runs under (already validated by `loadImage`). */
export interface UrlReadLimits {
  /** Largest body accepted, in bytes. */
  maxBytes: number;
  /** Largest width x height the image header may claim. */
  maxPixels: number;
  /** Time for the whole download (request to last byte), in ms; `Infinity` for none. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Where a download stops looking for the image header (a JPEG's frame header follows its EXIF and ICC segments). */
const HEADER_SEARCH_BYTES = 1024 * 1024;

/** A byte buffer that grows by doubling (amortized O(1) append) without ever holding more than `limit` bytes. */
class GrowingBytes {
  private buffer: Uint8Array;
  length = 0;

  constructor(
    initial: number,
    private readonly limit: number,
  ) {
    this.buffer = new Uint8Array(Math.max(1, Math.min(initial, limit)));
  }

  append(chunk: Uint8Array): void {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.min(Math.max(needed, this.buffer.length * 2), this.limit));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.length);
    this.length = needed;
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

function tooLarge(name: string, what: string, maxBytes: number): InvalidImageError {
  return new InvalidImageError(
    `cannot load image "${name}": ${what} more than the limit of ${maxBytes} bytes (pass { maxBytes } to change it)`,
  );
}

/** fetch's own failures are TypeErrors whose `cause` says what happened (`other side closed`, `ECONNREFUSED`). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  const message = (error as Error).message ?? String(error);
  const detail = cause?.message ?? cause?.code;
  return detail && detail !== message ? `${message} (${detail})` : message;
}

/**
 * Reads a response body chunk by chunk, stopping at `maxBytes` and at a header that claims more than `maxPixels`
 * (PNG, JPEG, GIF and WebP state their size in the first bytes; TIFF and AVIF are checked by the decoder).
 */
async function readBody(response: Response, name: string, limits: UrlReadLimits): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  // With a content-encoding the header counts compressed bytes; the limit is on what we keep, checked below.
  if (declared > limits.maxBytes && !response.headers.has('content-encoding')) {
    await response.body?.cancel().catch(() => {});
    throw tooLarge(name, `the server announces ${declared} bytes,`, limits.maxBytes);
  }
  const body = new GrowingBytes(Number.isFinite(declared) ? declared : 64 * 1024, limits.maxBytes);
  if (!response.body) return body.bytes();
  const reader = response.body.getReader();
  let headerKnown = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (body.length + value.length > limits.maxBytes) {
        throw tooLarge(name, 'the response is', limits.maxBytes);
      }
      body.append(value);
      if (!headerKnown && body.length - value.length < HEADER_SEARCH_BYTES) {
        const size = imageHeaderSize(body.bytes());
        if (size) checkInputPixels(name, size.width, size.height, limits.maxPixels);
        headerKnown = size !== undefined;
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    if (error instanceof OrtVisionError || limits.signal?.aborted) throw error;
    const of = Number.isFinite(declared) ? ` of ${declared}` : '';
    throw new DownloadError(
      `cannot fetch image "${name}": the body was cut off after ${body.length}${of} bytes: ${networkReason(error)}`,
      { cause: error },
    );
  }
  return body.bytes();
}

/** Downloads an `http(s):` URL under `limits`, following redirects. */
async function download(url: string, name: string, limits: UrlReadLimits): Promise<Uint8Array> {
  let response: Response;
  try {
    ({ response } = await request(url, { follow: 'all', signal: limits.signal }));
  } catch (error) {
    if (limits.signal?.aborted) throw error;
    const reason = error instanceof OrtVisionError ? error.message : networkReason(error);
    throw new DownloadError(`cannot fetch image "${name}": ${reason}`, { cause: error });
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new DownloadError(`cannot fetch image "${name}": HTTP ${response.status} ${response.statusText}`);
  }
  return readBody(response, name, limits);
}

/**
 * The bytes of an `http(s):` URL, downloaded under a byte limit, a time limit and the caller's signal. `name` is
 * how messages show the URL (shortened). An abort is an `AbortedError` (`timedOut` when the time limit ran out), a
 * body over the limit or a header over the pixel limit an `InvalidImageError`, anything else a `DownloadError`.
 */
export async function fetchImageBytes(url: string, name: string, limits: UrlReadLimits): Promise<Uint8Array> {
  const timeout = Number.isFinite(limits.timeoutMs) ? AbortSignal.timeout(limits.timeoutMs) : undefined;
  const signals = [limits.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
  try {
    return await download(url, name, { ...limits, signal });
  } catch (error) {
    if (limits.signal?.aborted) {
      throw new AbortedError(`loading image "${name}" was aborted`, { cause: limits.signal.reason });
    }
    if (timeout?.aborted) {
      throw new AbortedError(
        `loading image "${name}" timed out after ${limits.timeoutMs} ms (pass { timeoutMs } to change it)`,
        { cause: timeout.reason, timedOut: true },
      );
    }
    throw error;
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function hexDigit(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** Percent-decodes a data: URL payload to bytes; a `%` not followed by two hex digits stays, as in fetch. */
function percentDecode(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  if (!text.includes('%')) return bytes;
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const high = bytes[i] === 0x25 ? hexDigit(bytes[i + 1] ?? 0) : -1;
    const low = high >= 0 ? hexDigit(bytes[i + 2] ?? 0) : -1;
    if (low >= 0) {
      out[n++] = high * 16 + low;
      i += 2;
    } else out[n++] = bytes[i]!;
  }
  return out.subarray(0, n);
}

/**
 * The bytes a `data:` URL carries (`data:[<media type>][;base64],<payload>`, RFC 2397), under `maxBytes`. The media
 * type is not trusted: the bytes are sniffed when decoded, as for files. Errors are `InvalidImageError`s naming the
 * (shortened) URL.
 */
export function decodeDataUrl(url: string, name: string, maxBytes: number): Uint8Array {
  const comma = url.indexOf(',');
  if (comma < 0) {
    throw new InvalidImageError(
      `cannot load image "${name}": a data: URL needs a comma before its payload (data:[<media type>][;base64],<data>)`,
    );
  }
  const isBase64 = /;\s*base64\s*$/i.test(url.slice(5, comma));
  const payload = url.slice(comma + 1);
  // A bound from the text length, checked before anything is decoded.
  const bound = isBase64 ? Math.floor((payload.length * 3) / 4) : payload.length;
  if (bound > maxBytes + 2) throw tooLarge(name, `the data: URL carries about ${bound} bytes,`, maxBytes);
  let bytes: Uint8Array;
  if (isBase64) {
    const text = Buffer.from(percentDecode(payload))
      .toString('latin1')
      .replace(/[\t\n\f\r ]/g, '');
    if (!BASE64.test(text) || text.length % 4 === 1) {
      throw new InvalidImageError(`cannot load image "${name}": the data: URL's payload is not valid base64`);
    }
    bytes = Buffer.from(text, 'base64');
  } else bytes = percentDecode(payload);
  if (bytes.length > maxBytes) throw tooLarge(name, `the data: URL carries ${bytes.length} bytes,`, maxBytes);
  return bytes;
}
