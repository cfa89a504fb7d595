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
import { createDetector } from './detect.js';

const defaults = {
  model: repoFixture('owlv2'),
  image: repoFixture('images/cats.png'),
  labels: ['a cat', 'a remote control'],
  out: 'detected.png',
  // The pipeline's own default. The random fixture scores its boxes on cats.png between 0.1 and 0.7, so most of
  // them show; with a real checkpoint 0.1 keeps the plausible objects.
  threshold: 0.1,
};

const usage = `usage: pnpm example:detect [image] [--labels "a cat,a remote control" | --query-image file]
       [--threshold T] [--nms-threshold T] [--model <hub id or folder>] [--device cpu|cuda|auto] [--out file.png]

Detects objects with OWLv2: zero-shot from comma-separated text labels (--labels), or image-guided from an example
of what to find (--query-image). Prints the boxes as JSON (pixels of the input image) and writes the image with the
labelled boxes drawn (default ${defaults.out}). --threshold defaults to ${defaults.threshold}.
Defaults: fixtures/owlv2, fixtures/images/cats.png and the labels "${defaults.labels.join(',')}".
${FIXTURE_NOTE}`;

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, defaults);
  checkFlags(args.flags, ['labels', 'query-image', 'threshold', 'nms-threshold']);
  if (args.positional.length > 1) {
    throw new InvalidArgumentError(
      `detect takes one image, got ${args.positional.length}: ${args.positional.join(' ')}`,
    );
  }
  const labels = listFlag(args.flags, 'labels');
  const queryPath = args.flags['query-image'];
  if (labels && queryPath !== undefined) {
    throw new InvalidArgumentError('give --labels or --query-image, not both');
  }
  const threshold = numberFlag(args.flags, 'threshold', defaults.threshold, { min: 0, max: 1 });
  const nmsThreshold = numberFlag(args.flags, 'nms-threshold', 0.3, { min: 0, max: 1 });
  const format = checkOutput(args.out);
  const imagePath = args.positional[0] ? resolveInput(args.positional[0]) : defaults.image;
  const [image, queryImage] = await Promise.all([
    loadImage(imagePath),
    queryPath === undefined ? undefined : loadImage(resolveInput(queryPath)),
  ]);
  const model = resolveModel(args.model);
  const detector = createDetector(model, { device: args.device, onProgress: progressBar() });
  try {
    const request = queryImage
      ? { queryImage, threshold, nmsThreshold }
      : { labels: labels ?? defaults.labels, threshold };
    const { mode, detections, outside_image, picture } = await detector.detect(image, request, { format });
    const file = outputPath(args.out);
    await writeFile(file, picture);
    const report = {
      model,
      device: args.device,
      image: imagePath,
      mode,
      ...(queryImage ? { query_image: resolveInput(queryPath!) } : { labels: request.labels }),
      threshold,
      detections,
      outside_image,
      picture: file,
    };
    console.log(JSON.stringify(report, null, 2));
    if (outside_image > 0) {
      console.error(
        `note: ${outside_image} of ${detections.length} boxes reach past the image's edges (OWLv2 looks at the image padded to a square); the picture shows them clipped, labelled "(clipped)" or "(outside the image)"`,
      );
    }
  } finally {
    await detector.dispose();
  }
}

await runCli(usage, main);
