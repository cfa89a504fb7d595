#!/usr/bin/env node
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  InputShapeError,
  InvalidArgumentError,
  InvalidImageError,
  OrtVisionError,
  loadImage,
} from '@ortvision/core';
import {
  type Device,
  FIXTURE_NOTE,
  checkFlags,
  numberFlag,
  parseArgs,
  resolveModel,
  runCli,
} from '@ortvision/example-shared';
import { page } from './page.js';
import { type Task, TaskRunner, type WebModels, tasks } from './tasks.js';

/** Uploads above this are refused before they are read to the end. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, `the image is larger than ${MAX_BODY_BYTES / 1024 / 1024} MB`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

async function runTask(runner: TaskRunner, request: IncomingMessage, url: URL): Promise<unknown> {
  const task = url.searchParams.get('task') ?? '';
  if (!(tasks as readonly string[]).includes(task)) {
    throw new InvalidArgumentError(`task must be one of ${tasks.join(', ')}, got ${JSON.stringify(task)}`);
  }
  const prompts = (url.searchParams.get('prompts') ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const body = await readBody(request);
  if (body.length === 0) {
    throw new InvalidArgumentError(
      'the request body must be the image file (PNG, JPEG, ...), got an empty body',
    );
  }
  const started = performance.now();
  const image = await loadImage(body);
  const { result, picture } = await runner.run(task as Task, image, prompts);
  return {
    task,
    prompts,
    ms: Math.round(performance.now() - started),
    result,
    picture: `data:image/png;base64,${picture.toString('base64')}`,
  };
}

/** Bad requests (400 and the like) name what was wrong; anything else is the server's fault (500). */
function statusOf(error: unknown): number {
  if (error instanceof HttpError) return error.status;
  if (error instanceof InvalidArgumentError || error instanceof InvalidImageError) return 400;
  if (error instanceof InputShapeError) return 400;
  return 500;
}

export interface WebServerOptions {
  models?: Partial<WebModels>;
  device?: Device;
}

/**
 * The example's server (it checks `device` at once: `cuda` on a machine without CUDA throws
 * `DeviceUnavailableError` here, not on every request): `GET /` is the page, `POST /api/run?task=classify|detect|segment|zero-shot&prompts=a,b`
 * with the image bytes as the body answers `{ task, prompts, ms, result, picture }` (picture: a PNG data URL, at most
 * `PICTURE_MAX_SIDE` px on its longest side) or
 * `{ error }` with status 400 naming what was wrong. Close it with `close()`, which also frees the models.
 */
export function createWebServer(options: WebServerOptions = {}): Server {
  const runner = new TaskRunner(options.models, options.device);
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/' && (request.method === 'GET' || request.method === 'HEAD')) {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(request.method === 'HEAD' ? undefined : page);
      } else if (url.pathname === '/api/run') {
        if (request.method !== 'POST') throw new HttpError(405, 'POST the image bytes to /api/run');
        sendJson(response, 200, await runTask(runner, request, url));
      } else {
        throw new HttpError(404, `no such page: ${url.pathname}`);
      }
    } catch (error) {
      const status = statusOf(error);
      if (status === 500) console.error(error);
      const message =
        error instanceof OrtVisionError
          ? `${error.name}: ${error.message}`
          : error instanceof HttpError
            ? error.message
            : 'internal error (see the server log)';
      // The body may not have been read (e.g. a bad task): close the connection rather than drain the upload.
      if (!request.complete) response.setHeader('connection', 'close');
      sendJson(response, status, { error: message });
    }
  });
  server.on('close', () => void runner.dispose());
  return server;
}

const usage = `usage: pnpm example:web [--port 8080] [--device cpu|cuda|auto]
       [--classify-model m] [--detect-model m] [--clipseg-model m] [--mask2former-model m] [--zero-shot-model m]

Serves one page on http://localhost:PORT: drop an image, pick a task, type prompts, see the picture and the JSON.
Each task's model (a Hub id or a folder) is loaded on its first request. Defaults: the handwritten-digit ViT and the
fixture models in this repository (fixtures/owlv2, clipseg, mask2former, altclip), so it runs offline.
${FIXTURE_NOTE}`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { model: '', out: '' });
  const modelFlags = ['classify', 'detect', 'clipseg', 'mask2former', 'zero-shot'] as const;
  checkFlags(args.flags, ['port', ...modelFlags.map((name) => `${name}-model`)]);
  if (args.model !== '' || args.out !== '' || args.positional.length > 0) {
    throw new InvalidArgumentError(
      'the web example takes one --<task>-model per task (see --help); no --model, --out or file arguments',
    );
  }
  const port = numberFlag(args.flags, 'port', 8080, { min: 0, max: 65535, integer: true });
  const models: Partial<WebModels> = {};
  for (const name of modelFlags) {
    const value = args.flags[`${name}-model`];
    if (value !== undefined) models[name === 'zero-shot' ? 'zeroShot' : name] = resolveModel(value);
  }
  const server = createWebServer({ models, device: args.device });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, done);
  });
  const address = server.address();
  console.log(
    `ortvision web example on http://localhost:${typeof address === 'object' && address ? address.port : port}/`,
  );
}

// Started as a program (not imported by the test): serve until interrupted.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runCli(usage, main);
}
