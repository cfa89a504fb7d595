import { AltCLIPModel, AltCLIPProcessor, rankCandidateLabels } from '@ortvision/altclip';
import { toOrtTensor } from '@ortvision/core';
import {
  FLOOR,
  OURS,
  benchModel,
  benchOptions,
  endToEnd,
  floorSession,
  photos,
  sessionOptions,
} from './common.js';
import { type Suite, type SuiteResult, type Variant, compare, skippedResult } from './harness.js';

// AltCLIP (BAAI/AltCLIP: XLM-R large text tower + CLIP ViT-L/14 vision tower) on the full-size architecture,
// zero-shot classification of one photo against 4 labels. The bench model is the joint graph (model.onnx) only,
// while ortvision's zeroShotImageClassification runs the tower graphs (text_model, vision_model), which the
// bench models do not have: "end to end" here is ortvision's processor + AltCLIPModel.forward (the joint graph)
// + rankCandidateLabels, the same steps the helper takes, on one run of the joint graph. The tokenizer is the
// fixture's (fixtures/altclip, a 1,502-token unigram model: the real XLM-R sentencepiece file is not available
// offline), so tokenize timings are those of a small vocabulary. transformers.js has no AltCLIP.
// Session creation takes ~15 s (the weights are regenerated at load), so quick mode skips this suite.

const hubId = 'BAAI/AltCLIP';
const labels = ['a cat', 'a dog', 'a remote control', 'a sofa'];
const texts = labels.map((label) => `a photo of ${label}.`);

export const run: Suite = async ({ quick }) => {
  if (quick) return [skippedResult('altclip', 'AltCLIP: skipped in quick mode (session creation ~15 s)')];
  const dir = benchModel(hubId);
  // Lazy: the joint graph is loaded on first use, and the absent tower graphs are never asked for.
  const model = await AltCLIPModel.fromPretrained(dir, { sessionOptions, loading: 'lazy' });
  const processor = await AltCLIPProcessor.fromPretrained(dir);
  const floor = await floorSession(dir);
  const options = benchOptions(quick, { slow: true });
  const results: SuiteResult[] = [];
  try {
    for (const photo of await photos(quick)) {
      const inputs = await processor.process({ text: texts, images: photo.bytes, padding: true });
      const feeds = {
        input_ids: toOrtTensor(inputs.input_ids),
        attention_mask: toOrtTensor(inputs.attention_mask),
        pixel_values: toOrtTensor(inputs.pixel_values),
      };
      const { logits_per_image } = await model.forward(inputs);
      const variants: Variant[] = [
        {
          name: OURS,
          run: async () => {
            const encoded = await processor.process({ text: texts, images: photo.bytes, padding: true });
            return rankCandidateLabels((await model.forward(encoded)).logits_per_image, labels);
          },
        },
        { name: FLOOR, run: () => floor.run(feeds) },
      ];
      results.push(
        await endToEnd(
          'altclip',
          `AltCLIP ${photo.name}, 4 labels: end to end (joint graph)`,
          variants,
          options,
        ),
      );
      const split: Variant[] = [
        { name: 'ortvision decode+preprocess', run: () => processor.process({ images: photo.bytes }) },
        { name: 'ortvision tokenize', run: () => processor.process({ text: texts, padding: true }) },
        { name: 'ortvision post-process', run: () => rankCandidateLabels(logits_per_image, labels) },
      ];
      const splitResult = await compare('altclip', `AltCLIP ${photo.name}: split`, split, options);
      splitResult.notes = ['session.run is the floor of the end-to-end table (not re-run here)'];
      results.push(splitResult);
    }
  } finally {
    await model.dispose();
    await floor.release();
  }
  return results;
};
