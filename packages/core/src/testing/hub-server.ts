import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket, createServer as createNetServer } from 'node:net';
import { join, relative } from 'node:path';

/** A fault the server injects into the transfer of one file, `times` times (then it serves normally). */
export type Fault =
  | { kind: 'cut'; afterBytes: number; times: number }
  | { kind: 'status'; status: number; times: number; headers?: Record<string, string> }
  | { kind: 'corrupt'; times: number }
  | { kind: 'stall'; afterBytes: number; times: number }
  /** Answers only once `until` settles (a transfer that takes as long as the test wants). */
  | { kind: 'hold'; until: Promise<unknown>; times: number };

/**
 * A fault in the answer to a metadata request (HEAD on a file's resolve URL, or the model/revision file list),
 * `times` times: an error status with headers (Retry-After), no answer at all (the connection stays open and
 * silent), or headers replaced in an otherwise normal answer (X-Repo-Commit, ETag, X-Linked-Size...).
 */
export type MetadataFault =
  | { kind: 'status'; status: number; times: number; headers?: Record<string, string> }
  | { kind: 'blackhole'; times: number }
  | { kind: 'headers'; headers: Record<string, string>; times: number }
  /** For the file list: a JSON body replacing the real one. */
  | { kind: 'body'; body: unknown; times: number };

export interface RecordedRequest {
  method: string;
  url: string;
  range: string | undefined;
  authorization: string | undefined;
  /** When it arrived (Date.now()). */
  at: number;
}

export interface HubServerOptions {
  /** The repository id served (e.g. 'ortvision/vit-cls'). */
  repoId: string;
  /** The folder whose files the repository holds at its first commit. */
  folder: string;
  /** A repository renamed to `repoId`: its URLs answer with a relative 307, as the Hub does. */
  renamedFrom?: string;
  /**
   * When set, the repository is private: a request without a token gets 401 with X-Error-Code RepoNotFound (as for
   * a repository that does not exist), one with another token 401 "Invalid credentials".
   */
  token?: string;
}

const LFS = /\.(onnx|npy|bin|safetensors)$/;

/** The key of `metadataFaults` that applies to the model/revision file list. */
export const FILE_LIST = '@file-list';

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

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');
const gitSha1 = (content: Buffer) =>
  createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

/**
 * A Hugging Face Hub stand-in on 127.0.0.1 for tests, answering as the Hub does:
 * - `HEAD|GET /<repo>/resolve/<revision>/<file>` with X-Repo-Commit, ETag = git blob sha1; LFS files 302 to
 *   `/cdn/<sha256>` (HEAD and Range support) with X-Linked-Etag / X-Linked-Size;
 * - `GET /api/models/<repo>/revision/<revision>` -> `{ sha, siblings: [{ rfilename }] }`;
 * - 404 with X-Error-Code RevisionNotFound / EntryNotFound; for a repository it does not serve, 401 RepoNotFound
 *   without a token and 404 with one (the Hub does not tell a private repository from a missing one);
 * - `main` moves when a new commit is published (`publish`); earlier commits stay resolvable by hash.
 * Faults: `faults` (transfers), `metadataFaults` (HEAD and file list), `blackHole` (no answer to anything).
 */
export class HubServer {
  readonly requests: RecordedRequest[] = [];
  /** Faults in file transfers, by file path. */
  readonly faults = new Map<string, Fault>();
  /** Faults in metadata answers, by file path (its HEAD), `FILE_LIST`, or '*' for every metadata request. */
  readonly metadataFaults = new Map<string, MetadataFault>();
  /** When true, every connection is accepted and never answered. */
  blackHole = false;
  /** Called with each request before it is answered (e.g. to publish a commit mid-load). */
  onRequest: ((request: RecordedRequest) => void) | undefined;
  #barrier: { count: number; waiting: (() => void)[] } | undefined;
  #server: Server;
  #options: HubServerOptions;
  #token: string | undefined;
  #commits = new Map<string, Map<string, Buffer>>();
  #main: string;
  #bySha = new Map<string, Buffer>();
  #sockets = new Set<Socket>();

  private constructor(options: HubServerOptions) {
    this.#options = options;
    this.#token = options.token;
    const files = new Map<string, Buffer>();
    for (const file of listFiles(options.folder)) files.set(file, readFileSync(join(options.folder, file)));
    this.#main = createHash('sha1').update(options.repoId).digest('hex');
    this.#addCommit(this.#main, files);
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

  /**
   * Holds the next `count` requests until all of them have arrived, then answers them together: processes started
   * at once then race for real instead of in the order they happened to boot.
   */
  barrier(count: number): void {
    this.#barrier = { count, waiting: [] };
  }

  /** The commit `main` points to. */
  get commit(): string {
    return this.#main;
  }

  /** The token the private repository now accepts (a changed one makes the old token expired). */
  set token(token: string | undefined) {
    this.#token = token;
  }

  /**
   * A new commit on `main`: the files of the current one with `changes` applied (content, or null to delete).
   * Returns its hash.
   */
  publish(changes: Record<string, string | Buffer | null>): string {
    const files = new Map(this.#commits.get(this.#main));
    for (const [file, content] of Object.entries(changes)) {
      if (content === null) files.delete(file);
      else files.set(file, Buffer.from(content));
    }
    const commit = createHash('sha1')
      .update(`${this.#main} ${JSON.stringify(Object.keys(changes))} ${this.#commits.size}`)
      .digest('hex');
    this.#addCommit(commit, files);
    this.#main = commit;
    return commit;
  }

  fileNames(commit = this.#main): string[] {
    return [...this.#commits.get(commit)!.keys()];
  }

  content(file: string, commit = this.#main): Buffer {
    const content = this.#commits.get(commit)?.get(file);
    if (!content) throw new Error(`the test Hub has no ${file} at ${commit}`);
    return content;
  }

  sha256(file: string, commit = this.#main): string {
    return sha256(this.content(file, commit));
  }

  gitSha1(file: string, commit = this.#main): string {
    return gitSha1(this.content(file, commit));
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #addCommit(commit: string, files: Map<string, Buffer>): void {
    this.#commits.set(commit, files);
    for (const content of files.values()) this.#bySha.set(sha256(content), content);
  }

  #take<F extends { times: number }>(faults: Map<string, F>, key: string): F | undefined {
    const fault = faults.get(key);
    if (!fault) return undefined;
    fault.times--;
    if (fault.times <= 0) faults.delete(key);
    return fault;
  }

  #metadataFault(key: string): MetadataFault | undefined {
    return this.#take(this.metadataFaults, key) ?? this.#take(this.metadataFaults, '*');
  }

  /** The access check of a private repository; true when the request was answered (refused). */
  #refused(req: IncomingMessage, res: ServerResponse): boolean {
    const token = this.#token;
    if (!token || req.headers.authorization === `Bearer ${token}`) return false;
    if (req.headers.authorization) {
      res.writeHead(401, { 'x-error-message': 'Invalid credentials in Authorization header' });
      res.end('Invalid credentials in Authorization header');
    } else {
      res.writeHead(401, { 'x-error-code': 'RepoNotFound', 'content-type': 'text/plain' });
      res.end('Repository not found');
    }
    return true;
  }

  #commitOf(revision: string): string | undefined {
    if (revision === 'main') return this.#main;
    return this.#commits.has(revision) ? revision : undefined;
  }

  /** Routes a repository path: a renamed repository redirects, an unknown one is refused. */
  #repository(repo: string, req: IncomingMessage, res: ServerResponse, renamedUrl: string): boolean {
    if (repo === this.#options.renamedFrom) {
      res.writeHead(307, { location: renamedUrl }).end();
      return false;
    }
    if (repo !== this.#options.repoId) {
      res
        .writeHead(req.headers.authorization ? 404 : 401, { 'x-error-code': 'RepoNotFound' })
        .end('Repository not found');
      return false;
    }
    return !this.#refused(req, res);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      url: url.pathname,
      range: req.headers.range,
      authorization: req.headers.authorization,
      at: Date.now(),
    };
    this.requests.push(recorded);
    this.onRequest?.(recorded);
    if (this.blackHole) return;
    const barrier = this.#barrier;
    if (barrier) {
      barrier.waiting.push(() => this.#route(req, res, url));
      if (barrier.waiting.length < barrier.count) return;
      this.#barrier = undefined;
      for (const answer of barrier.waiting) answer();
      return;
    }
    this.#route(req, res, url);
  }

  #route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      const content = this.#bySha.get(cdn[1]!);
      if (!content) return void res.writeHead(404).end();
      const file = [...this.#commits.get(this.#main)!.entries()].find(([, c]) => c === content)?.[0];
      this.#sendContent(req, res, content, file ?? cdn[1]!, {});
      return;
    }
    const api = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) {
      this.#fileList(req, res, api[1]!, api[2]!);
      return;
    }
    const match = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!match) return void res.writeHead(404).end();
    const [, repo, revisionRaw, fileRaw] = match;
    const target = `/${this.#options.repoId}/resolve/${revisionRaw}/${fileRaw}`;
    if (!this.#repository(repo!, req, res, target)) return;
    const revision = decodeURIComponent(revisionRaw!);
    const file = fileRaw!.split('/').map(decodeURIComponent).join('/');
    const commit = this.#commitOf(revision);
    if (!commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
      return;
    }
    const fault = req.method === 'HEAD' ? this.#metadataFault(file) : undefined;
    if (fault?.kind === 'blackhole') return;
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, fault.headers).end(`injected ${fault.status}`);
      return;
    }
    const content = this.#commits.get(commit)!.get(file);
    if (!content) {
      res.writeHead(404, { 'x-error-code': 'EntryNotFound', 'x-repo-commit': commit }).end('Entry not found');
      return;
    }
    const override = fault?.kind === 'headers' ? fault.headers : {};
    const common = { 'x-repo-commit': commit, etag: `"${gitSha1(content)}"` };
    if (LFS.test(file)) {
      // As the Hub: the resolve URL of an LFS file redirects to its CDN copy, the metadata on the redirect itself.
      res.writeHead(302, {
        ...common,
        location: `${this.endpoint}/cdn/${sha256(content)}`,
        'x-linked-etag': `"${sha256(content)}"`,
        'x-linked-size': String(content.length),
        ...override,
      });
      res.end();
      return;
    }
    this.#sendContent(req, res, content, file, { ...common, ...override });
  }

  #fileList(req: IncomingMessage, res: ServerResponse, repo: string, revisionRaw: string): void {
    if (!this.#repository(repo, req, res, `/api/models/${this.#options.repoId}/revision/${revisionRaw}`))
      return;
    const fault = this.#metadataFault(FILE_LIST);
    if (fault?.kind === 'blackhole') return;
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, fault.headers).end(`injected ${fault.status}`);
      return;
    }
    const commit = this.#commitOf(decodeURIComponent(revisionRaw));
    if (!commit) {
      res.writeHead(404, { 'x-error-code': 'RevisionNotFound' }).end('Revision not found');
      return;
    }
    const body =
      fault?.kind === 'body'
        ? fault.body
        : {
            id: this.#options.repoId,
            sha: commit,
            siblings: [...this.#commits.get(commit)!.keys()].map((rfilename) => ({ rfilename })),
          };
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(fault?.kind === 'headers' ? fault.headers : {}),
    });
    res.end(JSON.stringify(body));
  }

  #sendContent(
    req: IncomingMessage,
    res: ServerResponse,
    original: Buffer,
    file: string,
    headers: Record<string, string>,
  ): void {
    const fault = req.method === 'GET' ? this.#take(this.faults, file) : undefined;
    if (fault?.kind === 'hold') {
      void fault.until.then(() => this.#send(req, res, original, headers, Number.POSITIVE_INFINITY));
      return;
    }
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, fault.headers).end(`injected ${fault.status}`);
      return;
    }
    let content = original;
    if (fault?.kind === 'corrupt') {
      content = Buffer.from(content);
      const middle = content.length >> 1;
      content[middle] = content[middle]! ^ 0xff;
    }
    const stop =
      fault?.kind === 'cut' || fault?.kind === 'stall' ? fault.afterBytes : Number.POSITIVE_INFINITY;
    this.#send(req, res, content, headers, stop, fault?.kind === 'cut');
  }

  #send(
    req: IncomingMessage,
    res: ServerResponse,
    content: Buffer,
    headers: Record<string, string>,
    stopAfter: number,
    cut = false,
  ): void {
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
      'content-length': String(body.length),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${content.length - 1}/${content.length}` } : {}),
      ...headers,
    });
    if (req.method === 'HEAD') return void res.end();
    if (stopAfter < body.length) {
      res.write(body.subarray(0, stopAfter));
      // 'cut' closes the connection mid-file, a moment later so that the client has taken in what was written (an
      // error that arrives with the bytes makes fetch drop them); 'stall' keeps it open and silent.
      if (cut) setTimeout(() => res.socket?.destroy(), 200);
      return;
    }
    res.end(body);
  }
}

/** An address on 127.0.0.1 where nothing listens: connections to it are refused at once (a Hub that is down). */
export async function closedEndpoint(): Promise<string> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** Size of a file in a folder, for assertions. */
export function fileSize(path: string): number {
  return statSync(path).size;
}
