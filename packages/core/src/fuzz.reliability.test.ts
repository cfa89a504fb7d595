import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from './checkpoint/open-checkpoint.js';
import { CheckpointError, OrtVisionError } from './errors.js';
import { ImageProcessor, readPreprocessorConfig } from './image/image-processor.js';
import { Image } from './image/image.js';
import { decodeImage } from './image/load.js';
import { type ConfigSchema, PretrainedConfig } from './modeling/config.js';
import { fixtureImagePath, fixturePath } from './testing/fixtures.js';
import { prng } from './testing/prng.js';

// Seeded fuzzing (issues #12, #18): mutated image bytes, config JSON and checkpoints must give a valid result or an OrtVisionError,
// never another exception (and never a crash of the process). Counts and a time budget keep it bounded; a
// failure prints the seed and case index, so it can be replayed.

// FUZZ_SEED=<n> replays or explores another sequence.
const SEED = Number(process.env.FUZZ_SEED ?? 0x12c0ffee);
const CASES = 300;
const BUDGET_MS = 10_000;

type Outcome = { ok: true } | { ok: false; error: unknown };

async function outcome(run: () => unknown): Promise<Outcome> {
  try {
    await run();
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
}

describe('fuzzed image bytes', () => {
  let sources: Buffer[];
  beforeAll(async () => {
    const small = new Image(
      new Uint8Array(12 * 9 * 3).map((_, i) => (i * 29) % 256),
      12,
      9,
      3,
    );
    sources = [
      readFileSync(fixtureImagePath('noise_37x53.png')),
      readFileSync(fixtureImagePath('palette_color.png')),
      readFileSync(fixtureImagePath('chelsea_exif6.jpg')),
      await small.toSharp().jpeg().toBuffer(),
      await small.toSharp().gif().toBuffer(),
      await small.toSharp().webp().toBuffer(),
      await small.toSharp().tiff().toBuffer(),
      await small.toSharp().withMetadata({ orientation: 6 }).png().toBuffer(),
    ];
  });

  function mutate(random: ReturnType<typeof prng>): Buffer {
    const bytes = Buffer.from(random.pick(sources));
    switch (random.int(5)) {
      case 0: {
        // bit flips, mostly near the header where decoders branch
        const flips = 1 + random.int(16);
        for (let i = 0; i < flips; i++) {
          const at = random.next() < 0.5 ? random.int(Math.min(64, bytes.length)) : random.int(bytes.length);
          bytes[at] = bytes[at]! ^ (1 << random.int(8));
        }
        return bytes;
      }
      case 1:
        return bytes.subarray(0, random.int(bytes.length));
      case 2: {
        const other = random.pick(sources);
        return Buffer.concat([
          bytes.subarray(0, random.int(bytes.length)),
          other.subarray(random.int(other.length)),
        ]);
      }
      case 3: {
        const at = random.int(bytes.length);
        const junk = Buffer.from(Array.from({ length: 1 + random.int(32) }, () => random.int(256)));
        return Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at + random.int(32))]);
      }
      default: {
        // large values in the first bytes: forged sizes and lengths
        for (let i = 0; i < 4; i++) bytes[random.int(Math.min(40, bytes.length))] = 0xff;
        return bytes;
      }
    }
  }

  it(`${CASES} mutated images decode to a valid RGB image or throw an OrtVisionError`, async () => {
    const random = prng(SEED);
    const started = Date.now();
    const counts = { decoded: 0, refused: 0 };
    for (let index = 0; index < CASES && Date.now() - started < BUDGET_MS; index++) {
      const bytes = mutate(random);
      let image: Image | undefined;
      // A pixel limit of 4 megapixels keeps a forged header from allocating gigabytes in the test.
      const result = await outcome(async () => {
        image = await decodeImage(bytes, `case ${index}`, { maxPixels: 4_000_000 });
      });
      if (result.ok) {
        counts.decoded++;
        expect(image!.channels, `seed ${SEED} case ${index}`).toBe(3);
        expect(image!.data.length).toBe(image!.width * image!.height * 3);
      } else {
        counts.refused++;
        expect(result.error, `seed ${SEED} case ${index}: ${describeError(result.error)}`).toBeInstanceOf(
          OrtVisionError,
        );
        expect((result.error as Error).message).toContain(`"case ${index}"`);
      }
    }
    // Both paths are exercised: the mutations are neither all fatal nor all harmless.
    expect(counts.decoded).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(10);
    expect(counts.decoded + counts.refused).toBeGreaterThanOrEqual(100);
  }, 30_000);
});

class FuzzConfig extends PretrainedConfig {
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    hidden_size: { type: 'integer', default: 768 },
    layer_norm_eps: { type: 'number', default: 1e-12 },
    image_size: { type: 'integer', default: 224 },
    qkv_bias: { type: 'boolean', default: true },
    hidden_sizes: { type: 'integer[]', default: [128, 256, 384] },
    problem_type: { type: 'string', nullable: true },
  };
}

describe('fuzzed config JSON', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ortvision-fuzz-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const texts = [
    ['vit-cls', 'config.json'],
    ['vit-cls', 'preprocessor_config.json'],
    ['levit-cls', 'config.json'],
    ['levit-cls', 'preprocessor_config.json'],
    ['owlv2', 'preprocessor_config.json'],
  ].map(([fixture, file]) => readFileSync(fixturePath(fixture!, file!), 'utf8'));

  function randomValue(random: ReturnType<typeof prng>, depth = 0): unknown {
    switch (random.int(depth > 1 ? 6 : 8)) {
      case 0:
        return null;
      case 1:
        return random.pick([0, -1, 1, 2.5, 1e308, -1e308, 3, 224, 2 ** 31, 5e-324]);
      case 2:
        return random.pick(['', 'vit', 'bicubic', 'shortest_edge', '\u0000', '1/255', '224']);
      case 3:
        return random.next() < 0.5;
      case 4:
        return random.pick([[], [0.5, 0.5, 0.5], [1, 2], [224, 224], ['a', 'b', 'c']]);
      case 5:
        return random.pick([
          {},
          { height: 32, width: 32 },
          { shortest_edge: 64 },
          { height: -1 },
          { '0': 'x' },
        ]);
      case 6:
        return Array.from({ length: random.int(4) }, () => randomValue(random, depth + 1));
      default:
        return Object.fromEntries(
          Array.from({ length: random.int(3) }, (_, i) => [`k${i}`, randomValue(random, depth + 1)]),
        );
    }
  }

  function mutate(random: ReturnType<typeof prng>): string {
    const text = random.pick(texts);
    if (random.next() < 0.3) {
      // text-level damage: truncation, a deleted or inserted character
      const at = random.int(text.length);
      const kind = random.int(3);
      if (kind === 0) return text.slice(0, at);
      if (kind === 1) return text.slice(0, at) + text.slice(at + 1);
      return text.slice(0, at) + random.pick(['{', '}', '"', ',', ':', '\\', 'x', '0']) + text.slice(at);
    }
    const json = JSON.parse(text) as Record<string, unknown>;
    const keys = Object.keys(json);
    const changes = 1 + random.int(3);
    for (let i = 0; i < changes; i++) {
      const key = random.next() < 0.85 ? random.pick(keys) : `new_${i}`;
      if (random.next() < 0.15) delete json[key];
      else json[key] = randomValue(random);
    }
    return JSON.stringify(random.next() < 0.05 ? randomValue(random) : json);
  }

  it(`${CASES} mutated configs build a config and an image processor, or throw an OrtVisionError`, async () => {
    const random = prng(SEED + 1);
    const started = Date.now();
    const tiny = new Image(new Uint8Array(5 * 4 * 3).fill(128), 5, 4, 3);
    const counts = { built: 0, refused: 0 };
    for (let index = 0; index < CASES && Date.now() - started < BUDGET_MS; index++) {
      const path = join(dir, `case-${index}.json`);
      await writeFile(path, mutate(random));
      for (const [what, run] of [
        ['config', () => FuzzConfig.fromFile(path)],
        [
          'processor',
          async () => {
            const processor = new ImageProcessor(await readPreprocessorConfig(path));
            // A processor that builds must also run, on an image small enough for any sane size.
            const { pixel_values } = await processor.preprocess(tiny, { load: { maxPixels: 4_000_000 } });
            expect(pixel_values.dims[0]).toBe(1);
          },
        ],
      ] as const) {
        const result = await outcome(run);
        if (result.ok) counts.built++;
        else {
          counts.refused++;
          expect(
            result.error,
            `seed ${SEED + 1} case ${index} (${what}): ${describeError(result.error)}`,
          ).toBeInstanceOf(OrtVisionError);
        }
      }
    }
    expect(counts.built).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(10);
  }, 30_000);
});

describe('fuzzed checkpoints', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ortvision-fuzz-checkpoint-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A torch zip (its pickle fills the first ~24 kB, its directory the last ~15 kB) and a safetensors file.
  const sources = [
    { name: 'pytorch_model.bin', bytes: readFileSync(fixturePath('levit-cls', 'pytorch_model.bin')) },
    { name: 'model.safetensors', bytes: readFileSync(fixturePath('vit-cls', 'model.safetensors')) },
  ];

  function mutate(random: ReturnType<typeof prng>): { name: string; bytes: Buffer } {
    const source = random.pick(sources);
    const bytes = Buffer.from(source.bytes);
    // Where the structure is: the pickle or header at the start, the zip directory at the end.
    const near = () =>
      random.next() < 0.5
        ? random.int(Math.min(24_000, bytes.length))
        : bytes.length - 1 - random.int(Math.min(16_000, bytes.length));
    switch (random.int(4)) {
      case 0: {
        const flips = 1 + random.int(8);
        for (let i = 0; i < flips; i++) {
          const at = near();
          bytes[at] = bytes[at]! ^ (1 << random.int(8));
        }
        return { name: source.name, bytes };
      }
      case 1:
        return { name: source.name, bytes: bytes.subarray(0, random.int(bytes.length)) };
      case 2: {
        // forged sizes, counts and offsets
        const at = near();
        for (let i = 0; i < 4 && at + i < bytes.length; i++) bytes[at + i] = 0xff;
        return { name: source.name, bytes };
      }
      default: {
        const at = near();
        const junk = Buffer.from(Array.from({ length: 1 + random.int(16) }, () => random.int(256)));
        return { name: source.name, bytes: Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]) };
      }
    }
  }

  it(`${CASES} mutated checkpoints read every weight or throw a CheckpointError`, async () => {
    const random = prng(SEED + 2);
    const started = Date.now();
    const counts = { read: 0, refused: 0 };
    for (let index = 0; index < CASES && Date.now() - started < BUDGET_MS; index++) {
      const { name, bytes } = mutate(random);
      const path = join(dir, `case-${index}-${name}`);
      await writeFile(path, bytes);
      const result = await outcome(async () => {
        const checkpoint = await openCheckpoint([path]);
        try {
          for (const key of checkpoint.keys()) await checkpoint.read(key);
        } finally {
          await checkpoint.close();
        }
      });
      await rm(path);
      if (result.ok) counts.read++;
      else {
        counts.refused++;
        expect(result.error, `seed ${SEED + 2} case ${index}: ${describeError(result.error)}`).toBeInstanceOf(
          CheckpointError,
        );
      }
    }
    expect(counts.read).toBeGreaterThan(10);
    expect(counts.refused).toBeGreaterThan(10);
  }, 30_000);
});
