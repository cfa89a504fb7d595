import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { DownloadError } from '../errors.js';

// huggingface_hub guards each download with filelock's FileLock on `<cache>/.locks/<repo folder>/<etag>.lock`,
// which on Linux and macOS is flock(2) on that file (0.20.3 and 0.36 alike). Node's standard library has no flock,
// and the npm packages that lock files either need a native build (fs-ext), take POSIX record or OFD locks that
// do not exclude flock on Linux (os-lock, fs-native-extensions), or are lock files of their own (proper-lockfile).
// So a small helper process takes the flock for us: util-linux flock(1) (present wherever util-linux or busybox
// is) through sh, else perl's flock (shipped with macOS). It holds the lock while its stdin, a pipe from us, stays
// open: when we release, or die, the pipe closes, the helper exits and the kernel drops the lock. A lock never
// outlives its holder, whoever it is, so there is no staleness to guess.

/** How this machine takes the Hub cache's download locks. */
export type LockKind = 'flock' | 'perl' | 'none';

export interface FileLock {
  /** Releases the lock; resolves once it is free for others. */
  release(): Promise<void>;
}

export interface LockOptions {
  signal?: AbortSignal;
}

// Open (create) the lock file without truncating it, flock it, and check that the locked file is still the one at
// the path: filelock >= 3.x deletes the lock file when it releases, so a lock on a just-deleted file excludes no
// one and must be taken again on the new one.
// flock waits in the background so that a TERM (an abort) reaches the shell at once and ends the wait too.
const FLOCK_SCRIPT = `
lock=$1
trap 'kill "$waiter" 2>/dev/null; exit 5' TERM
while :; do
  exec 9>>"$lock" || exit 3
  flock -x 9 & waiter=$!
  wait "$waiter" || exit 4
  [ /dev/fd/9 -ef "$lock" ] && break
  exec 9>&-
done
echo locked
while read -r _; do :; done
`;

const PERL_SCRIPT = `
use Fcntl qw(:flock);
my $path = shift;
for (;;) {
  open(my $fh, '>>', $path) or die "cannot open $path: $!\\n";
  flock($fh, LOCK_EX) or die "cannot lock $path: $!\\n";
  my @held = stat($fh);
  my @now = stat($path);
  if (@now && $held[0] == $now[0] && $held[1] == $now[1]) {
    $| = 1;
    print "locked\\n";
    1 while <STDIN>;
    exit 0;
  }
  close($fh);
}
`;

const run = promisify(execFile);
let detected: Promise<LockKind> | undefined;

async function succeeds(file: string, args: string[]): Promise<boolean> {
  try {
    await run(file, args, { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function detect(): Promise<LockKind> {
  if (await succeeds('sh', ['-c', 'command -v flock'])) return 'flock';
  // Perl's flock() is flock(2) only where its build says so (d_flock); otherwise it emulates it with fcntl.
  if (await succeeds('perl', ['-MConfig', '-e', 'exit($Config{d_flock} ? 0 : 1)'])) return 'perl';
  return 'none';
}

const KINDS = new Set<string>(['flock', 'perl', 'none']);

/**
 * How download locks are taken here: 'flock' (util-linux flock(1)), 'perl', or 'none' (Windows, or neither
 * found): then downloads do without a lock, each into a partial file of its own. ORTVISION_HUB_LOCK=flock|perl|none
 * chooses instead of the detection.
 */
export function lockKind(env: NodeJS.ProcessEnv = process.env): Promise<LockKind> {
  const chosen = env.ORTVISION_HUB_LOCK;
  if (chosen && KINDS.has(chosen)) return Promise.resolve(chosen as LockKind);
  if (process.platform === 'win32') return Promise.resolve('none');
  detected ??= detect();
  return detected;
}

function spawnHelper(kind: 'flock' | 'perl', path: string): ChildProcess {
  const [file, args] =
    kind === 'flock'
      ? ['sh', ['-c', FLOCK_SCRIPT, 'ortvision-lock', path]]
      : ['perl', ['-e', PERL_SCRIPT, path]];
  return spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}

/**
 * Takes the exclusive lock huggingface_hub takes on `path` (flock), waiting as long as another process holds it;
 * resolves to undefined where no flock is available (see `lockKind`) or it cannot be taken on this file (with a
 * warning).
 */
export async function acquireLock(path: string, { signal }: LockOptions = {}): Promise<FileLock | undefined> {
  const kind = await lockKind();
  if (kind === 'none') return undefined;
  signal?.throwIfAborted();
  await mkdir(dirname(path), { recursive: true });
  const helper = spawnHelper(kind, path);
  const exited = new Promise<void>((resolve) => helper.once('exit', () => resolve()));
  let stderr = '';
  helper.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // A write to a helper that already exited must not crash us; its exit is reported below.
  helper.stdin!.on('error', () => {});
  const onAbort = () => helper.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      helper.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('locked\n')) resolve();
      });
      helper.once('error', reject);
      helper.once('exit', (code, killedBy) => {
        if (signal?.aborted) return reject(signal.reason);
        reject(
          new DownloadError(
            `cannot lock ${path} (${kind} exited with ${killedBy ?? code})${stderr ? `: ${stderr.trim()}` : ''}`,
          ),
        );
      });
    });
  } catch (error) {
    helper.kill();
    if (signal?.aborted) throw signal.reason;
    // A file system without flock (huggingface_hub then falls back to a lock file of its own): download without a
    // lock, which is safe (see `lockKind`), rather than not at all.
    process.emitWarning(`${(error as Error).message}; downloading without the lock`, {
      type: 'OrtVisionWarning',
      code: 'ORTVISION_HUB_NO_LOCK',
    });
    return undefined;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  let released = false;
  return {
    async release() {
      if (!released) {
        released = true;
        helper.stdin!.end();
      }
      await exited;
    },
  };
}
