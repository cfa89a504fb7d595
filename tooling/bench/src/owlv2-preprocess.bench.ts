import { Owlv2ImageProcessor } from '@ortvision/owlv2';
import { benchModel, photos, readImage, transformersJs } from './common.js';
import { type Suite, type SuiteResult, type Variant, compare } from './harness.js';

// OWLv2's preprocessing alone (decode, pad to a square, anti-aliased resize to 960x960, clip, normalize), the
// heaviest preprocessing step of the project: ours (scipy-exact Gaussian + linear zoom) against transformers.js's
// Owlv2ImageProcessor (a plain resize without the anti-aliasing, so not the pixels Python gives), from the same
// JPEG bytes. Cheap enough to run without loading the 7-second OWLv2 graph.

const hubId = 'google/owlv2-base-patch16-ensemble';

export const run: Suite = async ({ quick }) => {
  const ours = await Owlv2ImageProcessor.fromPretrained(benchModel(hubId));
  const tjs = await transformersJs();
  const theirs = tjs ? await tjs.AutoProcessor.from_pretrained(hubId) : undefined;
  const results: SuiteResult[] = [];
  for (const photo of await photos(quick)) {
    const variants: Variant[] = [
      { name: 'ortvision decode+preprocess', run: () => ours.preprocess(photo.bytes) },
    ];
    if (theirs) {
      variants.push({
        name: 'transformers.js decode+preprocess',
        run: async () => theirs.image_processor(await readImage(tjs, photo.bytes)),
      });
    }
    const result = await compare('owlv2-preprocess', `${photo.name} -> 960x960`, variants, {
      warmup: quick ? 1 : 3,
      iterations: quick ? 5 : 20,
    });
    const [ortvision, transformers] = result.variants;
    if (ortvision && transformers) {
      result.ratios = {
        'ortvision / transformers.js (< 1: ortvision faster)': ortvision.medianMs / transformers.medianMs,
      };
    }
    results.push(result);
  }
  return results;
};
