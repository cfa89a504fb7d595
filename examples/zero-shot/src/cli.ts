#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, loadImage, progressBar } from '@ortvision/core';
import {
  FIXTURE_NOTE,
  checkFlags,
  checkOutput,
  listFlag,
  numberFlag,
  outputPath,
  parseArgs,
  repoFixture,
  resolveInput,
  resolveModel,
  runCli,
} from '@ortvision/example-shared';
import { loadRanker } from './zero-shot.js';

const defaults = {
  model: repoFixture('altclip'),
  image: repoFixture('images/cats.png'),
  labels: ['猫', '狗', 'a remote control', 'ソファ'],
  out: 'ranked.png',
};

const usage = `usage: pnpm example:zero-shot [image] [--labels "猫,a dog,ソファ"] [--template "a photo of {}."]
       [--top-k N] [--model <hub id or folder>] [--device cpu|cuda|auto] [--out file.png]

Ranks candidate labels for an image with AltCLIP, whose text tower reads many languages (zero-shot image
classification). Labels are comma-separated; --template puts each into a sentence ({} stands for the label,
default "This is a photo of {}."). Prints the ranking as JSON and writes the image with it captioned
(default ${defaults.out}).
Defaults: fixtures/altclip, fixtures/images/cats.png and the labels "${defaults.labels.join(',')}".
${FIXTURE_NOTE}`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, defaults);
  checkFlags(args.flags, ['labels', 'template', 'top-k']);
  if (args.positional.length > 1) {
    throw new InvalidArgumentError(
      `zero-shot takes one image, got ${args.positional.length}: ${args.positional.join(' ')}`,
    );
  }
  const labels = listFlag(args.flags, 'labels') ?? defaults.labels;
  const topK = numberFlag(args.flags, 'top-k', labels.length, { min: 1, integer: true });
  const format = checkOutput(args.out);
  const imagePath = args.positional[0] ? resolveInput(args.positional[0]) : defaults.image;
  const image = await loadImage(imagePath);
  const model = resolveModel(args.model);
  const ranker = await loadRanker(model, { device: args.device, onProgress: progressBar() });
  try {
    const result = await ranker.rank(
      image,
      { labels, hypothesisTemplate: args.flags.template, topK },
      { format },
    );
    const file = outputPath(args.out);
    await writeFile(file, result.picture);
    const report = { model, device: args.device, image: imagePath, labels: result.labels, picture: file };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await ranker.dispose();
  }
}

await runCli(usage, main);
