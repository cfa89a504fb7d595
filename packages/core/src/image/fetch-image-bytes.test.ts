import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbortedError, DownloadError, InvalidImageError } from '../errors.js';
import { fixtureImagePath } from '../testing/fixtures.js';
import { pngHead } from './__fixtures__/png-bytes.js';
import { DEFAULT_IMAGE_TIMEOUT_MS, DEFAULT_MAX_IMAGE_BYTES, loadImage } from './load.js';

// loadImage on http(s) URLs against a local server on 127.0.0.1 that misbehaves on purpose (issue #17: a URL that
// never answers, a valid header followed by gigabytes, a body cut off, a redirect loop). Every stream the server
// writes is bounded, and each test takes well under a second.

const CATS = readFileSync(fixtureImagePath('cats.png'));
const MiB = 1024 * 1024;

/** What a streaming route sent before the client went away. */
const sent = new Map<string, Promise<number>>();

/**
 * Writes `head`, then garbage in 64 KiB chunks with backpressure, up to `total` bytes (a bound, so that a client
 * that never stops reading cannot make the test run away); records how much went out before the socket closed.
 */
function stream(path: string, res: ServerResponse, head: Buffer, total: number): void {
  let count = 0;
  sent.set(path, new Promise((resolve) => res.on('close', () => resolve(count))));
  res.writeHead(200, { 'content-type': 'image/png' });
  res.write(head);
  count += head.length;
  const chunk = Buffer.alloc(64 * 1024, 0xab);
  const pump = () => {
    while (count < total && !res.destroyed) {
      count += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const hanging: ServerResponse[] = [];

function route(req: IncomingMessage, res: ServerResponse): void {
  const path = req.url ?? '/';
  switch (path) {
    case '/cats.png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': CATS.length });
      return void res.end(CATS);
    case '/moved':
      res.writeHead(302, { location: '/cats.png' });
      return void res.end();
    case '/loop':
      res.writeHead(302, { location: '/loop-b' });
      return void res.end();
    case '/loop-b':
      res.writeHead(301, { location: '/loop' });
      return void res.end();
    case '/missing.png':
      res.writeHead(404, 'Not Found');
      return void res.end('no');
    case '/huge-body.png':
      // A valid 640x480 header followed by up to 2 GB: only the byte limit can stop it.
      stream(path, res, pngHead(640, 480), 2 * 1024 * MiB);
      return;
    case '/huge-header.png':
      // A 20000x20000 header: refused from the header, long before the byte limit.
      stream(path, res, pngHead(20_000, 20_000), 2 * 1024 * MiB);
      return;
    case '/announces-2gb.png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': 2 * 1024 * MiB });
      res.write(pngHead(640, 480));
      return void hanging.push(res);
    case '/cut.png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': CATS.length });
      res.write(CATS.subarray(0, 1000));
      return void setTimeout(() => res.socket?.destroy(), 20);
    case '/stalls-mid-body.png':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': CATS.length });
      res.write(CATS.subarray(0, 1000));
      return void hanging.push(res);
    case '/never-answers.png':
      return void hanging.push(res);
    default:
      res.writeHead(500);
      res.end();
  }
}

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of hanging) res.socket?.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('loadImage over http', () => {
  it('downloads an image from a URL string or a URL object, following redirects', async () => {
    const fromFile = await loadImage(CATS);
    for (const input of [`${base}/cats.png`, new URL(`${base}/moved`)]) {
      const image = await loadImage(input);
      expect([image.width, image.height]).toEqual([640, 480]);
      expect(Buffer.from(image.data).equals(Buffer.from(fromFile.data))).toBe(true);
    }
  });

  it('an HTTP error status is a DownloadError with the status', async () => {
    await expect(loadImage(`${base}/missing.png`)).rejects.toThrowError(
      new DownloadError(`cannot fetch image "${base}/missing.png": HTTP 404 Not Found`),
    );
  });

  it('a refused connection is a DownloadError naming the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x.png`;
    await new Promise((resolve) => closed.close(resolve));
    const attempt = loadImage(url);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(`cannot fetch image "${url}": fetch failed (connect ECONNREFUSED`);
  });

  it('a redirect loop is a DownloadError that says so, with the count', async () => {
    const attempt = loadImage(`${base}/loop`);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(
      `cannot fetch image "${base}/loop": too many redirects (more than 10) starting at ${base}/loop`,
    );
  });

  it('a body cut off mid-transfer is a DownloadError saying where, not a raw "TypeError: terminated"', async () => {
    const attempt = loadImage(`${base}/cut.png`);
    await expect(attempt).rejects.toThrow(DownloadError);
    await expect(attempt).rejects.toThrow(
      `cannot fetch image "${base}/cut.png": the body was cut off after 1000 of ${CATS.length} bytes: terminated (other side closed)`,
    );
  });
});

describe('a URL cannot make loadImage buffer more than its limits', () => {
  it('a 640x480 PNG header followed by 2 GB stops at maxBytes, and the download stops with it', async () => {
    const attempt = loadImage(`${base}/huge-body.png`, { maxBytes: 4 * MiB });
    await expect(attempt).rejects.toThrowError(
      new InvalidImageError(
        `cannot load image "${base}/huge-body.png": the response is more than the limit of ${4 * MiB} bytes (pass { maxBytes } to change it)`,
      ),
    );
    // What was in flight in socket buffers when the client hung up, and nothing like 2 GB.
    expect(await sent.get('/huge-body.png')).toBeLessThan(4 * MiB + 16 * MiB);
  });

  it('a body announced larger than the default limit is refused before it is read', async () => {
    expect(DEFAULT_MAX_IMAGE_BYTES).toBe(128 * MiB);
    await expect(loadImage(`${base}/announces-2gb.png`)).rejects.toThrowError(
      new InvalidImageError(
        `cannot load image "${base}/announces-2gb.png": the server announces ${2 * 1024 * MiB} bytes, more than the limit of ${DEFAULT_MAX_IMAGE_BYTES} bytes (pass { maxBytes } to change it)`,
      ),
    );
  });

  it('a header claiming more than maxPixels is refused while streaming, before the body is buffered', async () => {
    await expect(loadImage(`${base}/huge-header.png`)).rejects.toThrowError(
      new InvalidImageError(
        `cannot decode "${base}/huge-header.png": 20000x20000 = 400000000 pixels is more than the limit of 178956970 (a guard against decompression bombs; pass { maxPixels } to change it)`,
      ),
    );
    expect(await sent.get('/huge-header.png')).toBeLessThan(16 * MiB);
  });

  it('limits must be numbers > 0', async () => {
    await expect(loadImage(`${base}/cats.png`, { maxBytes: -1 })).rejects.toThrow(
      'maxBytes must be a number > 0 (Infinity for no limit), got -1 (number)',
    );
    await expect(loadImage(`${base}/cats.png`, { timeoutMs: '5' as never })).rejects.toThrow(
      'timeoutMs must be a number > 0 (Infinity for no limit), got "5" (string)',
    );
  });
});

describe('a URL that hangs is cancelled by a signal or the time limit, as an AbortedError', () => {
  it('a server that never answers times out (timeoutMs), with timedOut set', async () => {
    expect(DEFAULT_IMAGE_TIMEOUT_MS).toBe(30_000);
    const url = `${base}/never-answers.png`;
    const error = await loadImage(url, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).message).toBe(
      `loading image "${url}" timed out after 150 ms (pass { timeoutMs } to change it)`,
    );
    expect((error as AbortedError).timedOut).toBe(true);
  });

  it('a body that stalls half-way times out too', async () => {
    const error = await loadImage(`${base}/stalls-mid-body.png`, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).timedOut).toBe(true);
  });

  it("the caller's signal aborts a download in progress, with its reason as the cause", async () => {
    const controller = new AbortController();
    const reason = new Error('user pressed stop');
    setTimeout(() => controller.abort(reason), 50);
    const url = `${base}/never-answers.png`;
    const error = await loadImage(url, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).message).toBe(`loading image "${url}" was aborted`);
    expect((error as AbortedError).timedOut).toBe(false);
    expect((error as AbortedError).cause).toBe(reason);
  });

  it('an already aborted signal stops any input before it is read, files and bytes included', async () => {
    const signal = AbortSignal.abort();
    for (const input of [`${base}/cats.png`, fixtureImagePath('cats.png'), CATS]) {
      await expect(loadImage(input, { signal })).rejects.toThrow(AbortedError);
    }
  });

  it('a signal that is not an AbortSignal is an InvalidArgumentError', async () => {
    await expect(loadImage(CATS, { signal: {} as never })).rejects.toThrow(
      'signal must be an AbortSignal, got object',
    );
  });
});
