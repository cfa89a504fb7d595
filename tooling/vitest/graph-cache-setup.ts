import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Graphs built from checkpoints during the tests go to a cache of the test run's own (ORTVISION_CACHE, which the
 * test workers and the processes they start inherit), removed at the end: tests never fill the user's
 * ~/.cache/ortvision, nor find graphs an earlier run built there. A test that sets `graphCacheDir` uses its own.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ortvision-test-cache-'));
  process.env.ORTVISION_CACHE = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
