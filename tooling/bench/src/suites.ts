import type { Suite } from './harness.js';

/**
 * Every benchmark suite by name (`pnpm bench <name>`), loaded lazily so one suite's dependencies don't slow the
 * others. A suite is a module `src/<name>.bench.ts` exporting `run: Suite`; add one line per suite.
 */
export const suites: Record<string, () => Promise<{ run: Suite }>> = {
  tokenize: () => import('./tokenize.bench.js'),
  image: () => import('./image.bench.js'),
  vit: () => import('./vit.bench.js'),
};
