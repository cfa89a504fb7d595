#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InvalidArgumentError, loadImage, progressBar } from '@ortvision/core';
import {
  FIXTURE_NOTE,
  checkFlags,
  checkOutput,
  choiceFlag,
  numberFlag,
  outputPath,
  parseArgs,
  repoFixture,
  resolveInput,
  resolveModel,
  runCli,
} from '@ortvision/example-shared';
import { type SegmentRequest, loadSegmenter, subtasks } from './segment.js';

const defaults = {
  model: repoFixture('clipseg'),
  image: repoFixture('images/cats.png'),
  prompts: ['a cat', 'a remote control'],
  out: 'segmented.png',
};

const usage = `usage: pnpm example:segment [image] [prompt...] [--prompt-image file]
       [--subtask semantic|instance|panoptic] [--threshold T] [--mask-threshold T] [--overlap-mask-area-threshold T]
       [--model <hub id or folder>] [--device cpu|cuda|auto] [--out file.png]

Segments an image and writes it with the masks overlaid in distinct colours and a legend (default ${defaults.out});
prints each segment's label, score and area (share of the image) as JSON. The model's config.json picks the model:
  CLIPSeg      one mask per prompt: text prompts after the image, and/or --prompt-image file (an example picture).
               The masks are drawn as probabilities, or black-and-white above --threshold when it is given.
  Mask2Former  --subtask semantic|instance|panoptic (default panoptic) over the model's own labels; --threshold
               (default 0.9), --mask-threshold (0.5) and --overlap-mask-area-threshold (0.5) as in transformers.
Defaults: fixtures/clipseg (or --model fixtures/mask2former), fixtures/images/cats.png and the prompts
"${defaults.prompts.join('", "')}".
${FIXTURE_NOTE}`;

const mask2formerOnly = ['subtask', 'mask-threshold', 'overlap-mask-area-threshold'];

function requestFor(
  modelType: 'clipseg' | 'mask2former',
  flags: Record<string, string>,
  prompts: string[],
): Omit<SegmentRequest, 'imagePrompts'> {
  const threshold = (name: string, fallback?: number) =>
    flags[name] === undefined ? fallback : numberFlag(flags, name, 0, { min: 0, max: 1 });
  const foreign = modelType === 'clipseg' ? mask2formerOnly : ['prompt-image'];
  for (const name of foreign) {
    if (flags[name] !== undefined)
      throw new InvalidArgumentError(`--${name} is not used by ${modelType} models`);
  }
  if (modelType === 'clipseg') return { prompts, threshold: threshold('threshold') };
  if (prompts.length > 0) {
    throw new InvalidArgumentError(
      `Mask2Former takes no prompts (got ${JSON.stringify(prompts)}); it segments by the labels of its config`,
    );
  }
  return {
    subtask: choiceFlag('subtask', flags.subtask ?? 'panoptic', subtasks),
    threshold: threshold('threshold'),
    maskThreshold: threshold('mask-threshold'),
    overlapMaskAreaThreshold: threshold('overlap-mask-area-threshold'),
  };
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, defaults);
  checkFlags(args.flags, ['prompt-image', 'threshold', ...mask2formerOnly]);
  const format = checkOutput(args.out);
  const [imageArg, ...promptArgs] = args.positional;
  const imagePath = imageArg ? resolveInput(imageArg) : defaults.image;
  const model = resolveModel(args.model);
  const segmenter = await loadSegmenter(model, { device: args.device, onProgress: progressBar() });
  try {
    const promptImage = args.flags['prompt-image'];
    const useDefaults =
      segmenter.modelType === 'clipseg' && promptArgs.length === 0 && promptImage === undefined;
    const request: SegmentRequest = requestFor(
      segmenter.modelType,
      args.flags,
      useDefaults ? defaults.prompts : promptArgs,
    );
    if (promptImage !== undefined) {
      const path = resolveInput(promptImage);
      request.imagePrompts = [{ label: `image: ${basename(path)}`, image: await loadImage(path) }];
    }
    const { picture, ...result } = await segmenter.segment(await loadImage(imagePath), request, { format });
    const file = outputPath(args.out);
    await writeFile(file, picture);
    const report = { model, device: args.device, image: imagePath, ...result, picture: file };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await segmenter.dispose();
  }
}

await runCli(usage, main);
