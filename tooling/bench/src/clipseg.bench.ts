import {
  CLIPSegForImageSegmentation,
  CLIPSegProcessor,
  postProcessPromptMasks,
  promptSegmentation,
} from '@ortvision/clipseg';
import { type Tensor, loadImage, toOrtTensor } from '@ortvision/core';
import {
  FLOOR,
  OURS,
  THEIRS,
  benchModel,
  benchOptions,
  endToEnd,
  floorSession,
  photos,
  readImage,
  sessionOptions,
  transformersJs,
  transformersJsLoadOptions,
} from './common.js';
import { type Suite, type SuiteResult, type Variant, compare } from './harness.js';

// CLIPSeg rd64-refined on the full-size architecture (one graph, model.onnx, as the Hub's ONNX repositories ship
// it): one photo x 4 text prompts, masks at the photo's size. ortvision's promptSegmentation against
// transformers.js's documented CLIPSeg recipe (tokenizer + processor + model, then sigmoid and a resize of each
// mask to the photo's size) and the floor (session.run on ortvision's ready feeds).

const hubId = 'CIDAS/clipseg-rd64-refined';
const prompts = ['a cat', 'a remote control', 'a sofa', 'a blanket'];

export const run: Suite = async ({ quick }) => {
  const dir = benchModel(hubId);
  const model = await CLIPSegForImageSegmentation.fromPretrained(dir, { sessionOptions });
  const processor = await CLIPSegProcessor.fromPretrained(dir);
  const segment = await promptSegmentation(model, { processor });
  const floor = await floorSession(dir);
  const tjs = await transformersJs();
  const theirs = tjs && {
    tokenizer: await tjs.AutoTokenizer.from_pretrained(hubId),
    processor: await tjs.AutoProcessor.from_pretrained(hubId),
    model: await tjs.CLIPSegForImageSegmentation.from_pretrained(hubId, transformersJsLoadOptions),
  };
  // transformers.js end to end: the masks as probabilities at the photo's size, as promptSegmentation returns.
  const theirEndToEnd = async (bytes: Buffer): Promise<unknown[]> => {
    const image = await readImage(tjs, bytes);
    const textInputs = theirs.tokenizer(prompts, { padding: true, truncation: true });
    const imageInputs = await theirs.processor(image);
    const { logits } = await theirs.model({ ...textInputs, ...imageInputs });
    return theirPostProcess(logits, image);
  };
  const theirPostProcess = (logits: unknown, image: unknown): Promise<unknown[]> => {
    // biome-ignore lint/suspicious/noExplicitAny: transformers.js tensors and images are untyped here
    const [l, img] = [logits as any, image as any];
    const masks = l.sigmoid().mul(255).to('uint8');
    return Promise.all(
      prompts.map((_, i) => tjs.RawImage.fromTensor(masks[i].unsqueeze(0)).resize(img.width, img.height)),
    );
  };
  const options = benchOptions(quick, { slow: true });
  const results: SuiteResult[] = [];
  try {
    for (const photo of await photos(quick)) {
      const picture = await loadImage(photo.bytes);
      const inputs = await processor.process({ text: prompts, images: picture, padding: true });
      const feeds = {
        input_ids: toOrtTensor(inputs.input_ids),
        attention_mask: toOrtTensor(inputs.attention_mask),
        pixel_values: toOrtTensor(inputs.pixel_values),
      };
      const { logits } = await model.forward(inputs);
      const variants: Variant[] = [
        { name: OURS, run: () => segment(photo.bytes, prompts) },
        { name: FLOOR, run: () => floor.run(feeds) },
      ];
      if (theirs) variants.push({ name: THEIRS, run: () => theirEndToEnd(photo.bytes) });
      const caseName = `CLIPSeg-rd64 ${photo.name}, ${prompts.length} prompts: end to end`;
      results.push(await endToEnd('clipseg', caseName, variants, options));

      const split: Variant[] = [
        { name: 'ortvision decode+preprocess', run: () => processor.process({ images: photo.bytes }) },
        { name: 'ortvision tokenize', run: () => processor.process({ text: prompts, padding: true }) },
        {
          name: 'ortvision post-process',
          run: () => postProcessPromptMasks(logits as Tensor<'float32'>, [picture.height, picture.width]),
        },
      ];
      if (theirs) {
        const image = await readImage(tjs, photo.bytes);
        const textInputs = theirs.tokenizer(prompts, { padding: true, truncation: true });
        const { logits: theirLogits } = await theirs.model({
          ...textInputs,
          ...(await theirs.processor(image)),
        });
        split.push(
          {
            name: 'transformers.js decode+preprocess',
            run: async () => theirs.processor(await readImage(tjs, photo.bytes)),
          },
          {
            name: 'transformers.js tokenize',
            run: () => theirs.tokenizer(prompts, { padding: true, truncation: true }),
          },
          { name: 'transformers.js post-process', run: () => theirPostProcess(theirLogits, image) },
        );
      }
      const splitResult = await compare('clipseg', `CLIPSeg-rd64 ${photo.name}: split`, split, options);
      splitResult.notes = ['session.run is the floor of the end-to-end table (not re-run here)'];
      results.push(splitResult);
    }
  } finally {
    await segment.dispose();
    await model.dispose();
    await floor.release();
    await theirs?.model.dispose();
  }
  return results;
};
