import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@ortvision/core';
import { type Suite, type SuiteResult, compare } from './harness.js';

// The full-vocabulary CLIP tokenizer (CIDAS/clipseg-rd64-refined's files, 49408 tokens) kept beside core's tests.
const clipFolder = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../../packages/core/src/text/__fixtures__/clip-full',
);

const subjects = [
  'cat',
  'dog',
  'remote control',
  'couch',
  'bicycle',
  'bus',
  'person',
  'traffic light',
  'tree',
  'car',
];
const styles = [
  'a photo of',
  'a blurry photo of',
  'a drawing of',
  'a close-up of',
  'a picture of',
  'an image of',
];
const places = ['', ' on a couch', ' in the street', ' at night', ' next to a window', ' in the snow'];

/** Short prompts like those zero-shot detection and segmentation get; deterministic, mostly distinct. */
function prompts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const subject = subjects[i % subjects.length]!;
    const style = styles[Math.floor(i / subjects.length) % styles.length]!;
    const place = places[Math.floor(i / (subjects.length * styles.length)) % places.length]!;
    return `${style} a ${subject}${place}${i >= 360 ? ` #${i}` : ''}`;
  });
}

/**
 * Batch tokenization: ortvision's `Tokenizer.encode` (ids, padding, int64 tensors) against the floor, calling
 * `@huggingface/tokenizers` directly once per prompt (ids as plain arrays, no padding, no tensors); and the same
 * tokenizer loaded from tokenizer.json vs built from the vocab.json + merges.txt the original repository ships
 * (load time, then encode speed of the built one).
 */
export const run: Suite = async ({ quick }) => {
  const slowFolder = await mkdtemp(join(tmpdir(), 'ortvision-bench-clip-slow-'));
  try {
    await cp(clipFolder, slowFolder, { recursive: true, filter: (src) => !src.endsWith('tokenizer.json') });
    return await runSuite(quick, slowFolder);
  } finally {
    await rm(slowFolder, { recursive: true, force: true });
  }
};

async function runSuite(quick: boolean, slowFolder: string): Promise<SuiteResult[]> {
  const tokenizer = await Tokenizer.fromPretrained(clipFolder);
  const fromSlowFiles = await Tokenizer.fromPretrained(slowFolder);
  const backend = tokenizer.backend;
  const texts = prompts(quick ? 100 : 1000);
  const options = quick ? { warmup: 1, iterations: 3 } : { warmup: 5, iterations: 30 };
  const results: SuiteResult[] = [];
  results.push(
    await compare(
      'tokenize',
      `CLIP (49408 tokens), ${texts.length} short prompts`,
      [
        {
          name: '@huggingface/tokenizers encode (floor)',
          run: () => texts.map((t) => backend.encode(t).ids),
        },
        { name: 'ortvision encode, padding: true', run: () => tokenizer.encode(texts, { padding: true }) },
        {
          name: "ortvision encode, padding: 'max_length', truncation",
          run: () => tokenizer.encode(texts, { padding: 'max_length', truncation: true }),
        },
        {
          name: 'ortvision encode, padding: true, built from vocab.json + merges.txt',
          run: () => fromSlowFiles.encode(texts, { padding: true }),
        },
      ],
      options,
    ),
  );
  results.push(
    await compare(
      'tokenize',
      'CLIP (49408 tokens), Tokenizer.fromPretrained',
      [
        { name: 'from tokenizer.json', run: () => Tokenizer.fromPretrained(clipFolder) },
        { name: 'from vocab.json + merges.txt', run: () => Tokenizer.fromPretrained(slowFolder) },
      ],
      quick ? { warmup: 1, iterations: 3 } : { warmup: 2, iterations: 15 },
    ),
  );
  return results;
}
