import type { Suite } from './harness.js';

/**
 * Every benchmark suite by name (`pnpm bench <name>`), loaded lazily so one suite's dependencies don't slow the
 * others. A suite is a module `src/<name>.bench.ts` exporting `run: Suite`; add one line per suite. The order is
 * the order of a full run: cheap suites first, so a quick run shows something early.
 */
export const suites: Record<string, () => Promise<{ run: Suite }>> = {
  tokenize: () => import('./tokenize.bench.js'),
  image: () => import('./image.bench.js'),
  'session-options': () => import('./session-options.bench.js'),
  vit: () => import('./vit.bench.js'),
  throughput: () => import('./throughput.bench.js'),
  'vit-graph': () => import('./vit-graph.bench.js'),
  levit: () => import('./levit.bench.js'),
  'levit-graph': () => import('./levit-graph.bench.js'),
  clipseg: () => import('./clipseg.bench.js'),
  'clipseg-graph': () => import('./clipseg-graph.bench.js'),
  perceiver: () => import('./perceiver.bench.js'),
  'perceiver-graph': () => import('./perceiver-graph.bench.js'),
  altclip: () => import('./altclip.bench.js'),
  'altclip-graph': () => import('./altclip-graph.bench.js'),
  owlv2: () => import('./owlv2.bench.js'),
  'owlv2-graph': () => import('./owlv2-graph.bench.js'),
  'owlv2-preprocess': () => import('./owlv2-preprocess.bench.js'),
  mask2former: () => import('./mask2former.bench.js'),
  'mask2former-graph': () => import('./mask2former-graph.bench.js'),
  checkpoint: () => import('./checkpoint.bench.js'),
};
