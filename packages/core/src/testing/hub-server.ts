import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/** A fault the server injects for one file, `times` times (then it serves normally). */
export type Fault =
  | { kind: 'cut'; afterBytes: number; times: number }
  | { kind: 'status'; status: number; times: number }
  | { kind: 'corrupt'; times: number }
  | { kind: 'stall'; afterBytes: number; times: number };

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface HubServerOptions {
  /** The repository id served (e.g. 'ortvision/vit-cls'). */
  repoId: string;
  /** The folder whose files the repository holds. */
  folder: string;
  /** A repository renamed to `repoId`: its URLs answer with a relative 307, as the Hub does. */
  renamedFrom?: string;
  /** When set, every request without `Authorization: Bearer <token>` is refused with 401. */
  token?: string;
}

const LFS = /\.(onnx|npy|bin|safetensors)$/;

function listFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) out.push(relative(folder, path).split('\\').join('/'));
    }
  };
  walk(folder);
  return out;
}

/**
 * A Hugging Face Hub stand-in on 127.0.0.1 for tests: `/<repo>/resolve/<revision>/<file>` with the Hub's headers
 * (X-Repo-Commit, ETag = git blob sha1, LFS files 302 to `/cdn/<sha256>` with X-Linked-Etag / X-Linked-Size),
 * HEAD and Range support, and injectable faults.
 */
export class HubServer {
  readonly commit: string;
  readonly requests: RecordedRequest[] = [];
  readonly faults = new Map<string, Fault>();
  #server: Server;
  #options: HubServerOptions;
  #files = new Map<string, Buffer>();
  #bySha = new Map<string, string>();
  #sockets = new Set<import('node:net').Socket>();

  private constructor(options: HubServerOptions) {
    this.#options = options;
    for (const file of listFiles(options.folder)) {
      const content = readFileSync(join(options.folder, file));
      this.#files.set(file, content);
      this.#bySha.set(createHash('sha256').update(content).digest('hex'), file);
    }
    this.commit = createHash('sha1').update(options.repoId).digest('hex');
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: HubServerOptions): Promise<HubServer> {
    const server = new HubServer(options);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  fileNames(): string[] {
    return [...this.#files.keys()];
  }

  sha256(file: string): string {
    return createHash('sha256').update(this.#files.get(file)!).digest('hex');
  }

  gitSha1(file: string): string {
    const content = this.#files.get(file)!;
    return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #takeFault(file: string): Fault | undefined {
    const fault = this.faults.get(file);
    if (!fault) return undefined;
    fault.times--;
    if (fault.times <= 0) this.faults.delete(file);
    return fault;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    this.requests.push({
      method: req.method ?? 'GET',
      url: url.pathname,
      range: req.headers.range,
      authorization: req.headers.authorization,
    });
    const { token } = this.#options;
    if (token && req.headers.authorization !== `Bearer ${token}`) {
      res.writeHead(401, { 'x-error-code': 'RepoNotFound', 'content-type': 'text/plain' });
      res.end('Invalid username or password.');
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const file = this.#bySha.get(cdn[1]!);
      if (!file) return void res.writeHead(404).end();
      this.#sendContent(req, res, file, {});
      return;
    }
    const match = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!match) return void res.writeHead(404).end();
    const [, repo, revisionRaw, fileRaw] = match;
    const revision = decodeURIComponent(revisionRaw!);
    const file = fileRaw!.split('/').map(decodeURIComponent).join('/');
    if (repo === this.#options.renamedFrom) {
      res.writeHead(307, { location: `/${this.#options.repoId}/resolve/${revisionRaw}/${fileRaw}` });
      res.end();
      return;
    }
    if (repo !== this.#options.repoId) {
      res.writeHead(404, { 'x-error-code': 'RepoNotFound' }).end('Repository not found');
      return;
    }
    if (revision !== 'main' && revision !== this.commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
      return;
    }
    const content = this.#files.get(file);
    if (!content) {
      res
        .writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': this.commit })
        .end('Entry not found');
      return;
    }
    const common = { 'x-repo-commit': this.commit };
    if (LFS.test(file)) {
      // As the Hub: the resolve URL of an LFS file redirects to its CDN copy, the metadata on the redirect itself.
      res.writeHead(302, {
        ...common,
        location: `${this.endpoint}/cdn/${this.sha256(file)}`,
        'x-linked-etag': `"${this.sha256(file)}"`,
        'x-linked-size': String(content.length),
        etag: `"${this.gitSha1(file)}"`,
      });
      res.end();
      return;
    }
    this.#sendContent(req, res, file, { ...common, etag: `"${this.gitSha1(file)}"` });
  }

  #sendContent(
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    headers: Record<string, string>,
  ): void {
    const fault = req.method === 'GET' ? this.#takeFault(file) : undefined;
    if (fault?.kind === 'status') {
      res.writeHead(fault.status).end(`injected ${fault.status}`);
      return;
    }
    let content = this.#files.get(file)!;
    if (fault?.kind === 'corrupt') {
      content = Buffer.from(content);
      const middle = content.length >> 1;
      content[middle] = content[middle]! ^ 0xff;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= content.length) {
        res.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
    }
    const body = content.subarray(start);
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(body.length),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${content.length - 1}/${content.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    if (fault?.kind === 'cut' || fault?.kind === 'stall') {
      res.write(body.subarray(0, fault.afterBytes));
      // 'cut' drops the connection mid-file; 'stall' keeps it open and silent.
      if (fault.kind === 'cut') setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    res.end(body);
  }
}

/** Size of a file in a folder, for assertions. */
export function fileSize(path: string): number {
  return statSync(path).size;
}
