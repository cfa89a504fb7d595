import type { ConformanceAdapter } from '../adapter.js';

/**
 * Adapters by `model_type`, imported lazily so running one fixture loads one package. A model type missing here
 * still gets its model cases run generically; its other cases are reported as having no adapter.
 */
const loaders: Record<string, () => Promise<{ default: ConformanceAdapter }>> = {
  altclip: () => import('./altclip.js'),
  clipseg: () => import('./clipseg.js'),
  levit: () => import('./levit.js'),
  owlv2: () => import('./owlv2.js'),
  mask2former: () => import('./mask2former.js'),
  perceiver: () => import('./perceiver.js'),
  vit: () => import('./vit.js'),
};

export async function findAdapter(modelType: string): Promise<ConformanceAdapter | undefined> {
  const load = loaders[modelType];
  return load ? (await load()).default : undefined;
}
