import { type ChildProcess, spawn } from 'node:child_process';
import { constants, accessSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

// A real Redis for the queue's tests: Debian's redis-server as a child process on a free loopback port, with its data
// (an append-only file, so a restart keeps the queue) in a temporary folder that goes with it.

/** The `redis-server` on PATH, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** Stops Redis as a service manager would (SIGTERM: it writes its data first) and starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops Redis and removes its data. */
  stop(): Promise<void>;
}

function waitForReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        child.off('exit', onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`redis-server on port ${port} exited (code ${code}) before it was ready:\n${output}`));
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Starts `redis-server` on a free loopback port (a few ports are tried if one is taken meanwhile). */
export async function startRedisServer(binary = findRedisServer()): Promise<RedisServer> {
  if (!binary) throw new Error('redis-server is not installed (apt-get install redis-server)');
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  const launch = async () => {
    const started = spawn(
      binary,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--save',
        '',
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await waitForReady(started, port);
    child = started;
  };
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
  const kill = () => child?.kill('SIGKILL');
  process.once('exit', kill);
  const stopChild = async (signal: NodeJS.Signals) => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      await stopChild('SIGTERM');
      await launch();
    },
    async stop() {
      process.off('exit', kill);
      await stopChild('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
