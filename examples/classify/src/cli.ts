#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { type LabelScore, loadImage, progressBar } from '@ortvision/core';
import {
  captionedPicture,
  checkFlags,
  checkOutput,
  numberFlag,
  outputPath,
  parseArgs,
  repoFixture,
  resolveInput,
  resolveModel,
  runCli,
} from '@ortvision/example-shared';
import { loadClassifier } from './classify.js';

const defaults = {
  // vit-digits is trained for real (98% on held-out handwritten digits) and ships with the repository.
  model: repoFixture('vit-digits'),
  image: repoFixture('images/digits/digit_1022_4.png'),
  out: 'classified.png',
};

const usage = `usage: pnpm demo [image...] [--model <hub id or folder>] [--device cpu|cuda|auto] [--top-k N] [--out file.png]

Classifies images with a ViT, LeViT or Perceiver model (a Hugging Face Hub id or a local folder in the Hub's ONNX layout),
prints the labels as JSON and writes each image with its top labels captioned (file.png, file-2.png, ...).
Defaults: the handwritten-digit ViT and a digit image shipped in this repository, so it runs offline.`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, defaults);
  checkFlags(args.flags, ['top-k']);
  const topK = numberFlag(args.flags, 'top-k', 3, { min: 1, integer: true });
  const format = checkOutput(args.out);
  const images = args.positional.length > 0 ? args.positional.map(resolveInput) : [defaults.image];
  const model = resolveModel(args.model);
  const { classify, modelType } = await loadClassifier(model, {
    device: args.device,
    onProgress: progressBar(),
  });
  try {
    const results = await classify(images, { topK });
    const written: string[] = [];
    for (const [index, path] of images.entries()) {
      const file = outputPath(args.out, index);
      await writeFile(file, await captionedPicture(await loadImage(path), results[index]!, { format }));
      written.push(file);
    }
    const report = {
      model,
      model_type: modelType,
      device: args.device,
      results: images.map((image, i) => ({ image, labels: results[i], picture: written[i] })),
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await classify.dispose();
  }
}

await runCli(usage, main);
