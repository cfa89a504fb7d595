#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LabelScore, OrtVisionError, annotateImage, loadImage, progressBar } from '@ortvision/core';
import { parseArgs } from './args.js';
import { loadClassifier } from './classify.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// pnpm runs package scripts in the package folder; INIT_CWD is where the user typed the command.
const cwd = process.env.INIT_CWD ?? process.cwd();
const defaults = {
  // vit-digits is trained for real (98% on held-out handwritten digits) and ships with the repository.
  model: join(repoRoot, 'fixtures/vit-digits'),
  image: join(repoRoot, 'fixtures/images/digits/digit_1022_4.png'),
  out: 'classified.png',
};

const usage = `usage: pnpm demo [image...] [--model <hub id or folder>] [--device cpu|cuda|auto] [--top-k N] [--out file.png]

Classifies images with a ViT, LeViT or Perceiver model (a Hugging Face Hub id or a local folder in the Hub's ONNX layout),
prints the labels as JSON and writes each image with its top labels captioned (file.png, file-2.png, ...).
Defaults: the handwritten-digit ViT and a digit image shipped in this repository, so it runs offline.`;

/** Small images are enlarged (nearest neighbour) for the picture only, so that the caption is readable. */
async function captioned(path: string, labels: LabelScore[]): Promise<Buffer> {
  let image = await loadImage(path);
  const scale = Math.max(1, Math.floor(320 / Math.max(image.width, image.height)));
  if (scale > 1) image = image.resize(image.width * scale, image.height * scale, 'nearest');
  return annotateImage(image, { captions: labels.map((l) => `${l.label}  ${(l.score * 100).toFixed(1)}%`) });
}

function outputPath(out: string, index: number): string {
  if (index === 0) return resolve(cwd, out);
  const ext = extname(out) || '.png';
  return resolve(cwd, dirname(out), `${basename(out, ext)}-${index + 1}${ext}`);
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return;
  }
  const args = parseArgs(argv, defaults);
  const topK = Number(args.flags['top-k'] ?? 3);
  const images = args.positional.length > 0 ? args.positional.map((p) => resolve(cwd, p)) : [defaults.image];
  // A folder is resolved where the command was typed; anything else is a Hub id.
  const model = existsSync(resolve(cwd, args.model)) ? resolve(cwd, args.model) : args.model;
  const { classify, modelType } = await loadClassifier(model, {
    device: args.device,
    onProgress: progressBar(),
  });
  try {
    const results = (await classify(images, { topK })) as LabelScore[][];
    const written: string[] = [];
    for (const [index, path] of images.entries()) {
      const file = outputPath(args.out, index);
      await writeFile(file, await captioned(path, results[index]!));
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

try {
  await main(process.argv.slice(2));
} catch (error) {
  // Our typed errors carry a message meant for people; anything else is a bug worth a stack trace.
  console.error(error instanceof OrtVisionError ? `${error.name}: ${error.message}` : error);
  process.exitCode = 1;
}
