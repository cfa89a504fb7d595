import { readFile } from 'node:fs/promises';
import type { Checkpoint, WeightDtype, WeightInfo } from '../checkpoint/checkpoint.js';
import { isWeightDtype } from '../checkpoint/dtypes.js';
import { writeSafetensors } from '../checkpoint/safetensors-writer.js';
import type { WeightData, WeightEntry } from '../checkpoint/weight-entries.js';
import { CheckpointError, FixtureFormatError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { writeTorchCheckpoint } from './torch-checkpoint.js';

/** `weights-shapes.json` beside each bench model: the keys, dtypes and shapes of its full-size checkpoint. */
export interface WeightsShapes {
  readonly class?: string;
  readonly source?: string;
  readonly tensors: Readonly<Record<string, { readonly dtype: string; readonly shape: readonly number[] }>>;
}

export interface RandomWeightsOptions {
  /** Same seed, same values (each weight's values depend only on the seed and its key). Default 0. */
  seed?: number;
  /** Floating weights are uniform in [-scale, scale]; default 0.05. */
  scale?: number;
}

/** A 32-bit FNV-1a hash, to give every key its own random stream. */
function hash(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function fillUniform(out: Float32Array, state: number, scale: number, offset: number): void {
  // xorshift32: fast, deterministic, and good enough for weights that only have to be finite and varied.
  let x = state || 1;
  const unit = (2 * scale) / 0x100000000;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = offset + ((x >>> 0) * unit - scale);
  }
}

function randomData(
  key: string,
  dtype: WeightDtype,
  count: number,
  options: RandomWeightsOptions,
): WeightData {
  const scale = options.scale ?? 0.05;
  const state = hash(key, options.seed ?? 0);
  switch (dtype) {
    case 'float32': {
      const out = new Float32Array(count);
      // A BatchNorm variance must stay positive (a graph takes its square root): around 1.
      if (key.endsWith('running_var')) fillUniform(out, state, 0.5, 1);
      else fillUniform(out, state, scale, 0);
      return out;
    }
    // Integer weights of real checkpoints are counters and index tables: zeros are valid for both.
    case 'int64':
      return new BigInt64Array(count);
    case 'int32':
      return new Int32Array(count);
    case 'int16':
      return new Int16Array(count);
    case 'int8':
      return new Int8Array(count);
    case 'uint8':
    case 'bool':
      return new Uint8Array(count);
    case 'float64': {
      const values = new Float32Array(count);
      fillUniform(values, state, scale, 0);
      return Float64Array.from(values);
    }
    case 'float16':
    case 'bfloat16': {
      // Raw bits: bfloat16 is the top half of a float32; float16 by truncation (values below its normal range
      // become 0, which random weights do not mind).
      const values = new Float32Array(count);
      fillUniform(values, state, scale, 0);
      const bits = new Uint32Array(values.buffer);
      const out = new Uint16Array(count);
      for (let i = 0; i < count; i++) {
        out[i] = dtype === 'bfloat16' ? bits[i]! >>> 16 : float16Bits(values[i]!);
      }
      return out;
    }
  }
}

function float16Bits(value: number): number {
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  if (exponent <= 0) return sign;
  if (exponent >= 0x1f) return sign | 0x7c00;
  return sign | (exponent << 10) | ((bits >>> 13) & 0x3ff);
}

/**
 * Lazy random weights for every tensor of a `weights-shapes.json`: entries whose data is made only when a writer
 * asks for it, so that a full-size checkpoint (AltCLIP: 3.5 GB) is written holding one weight at a time.
 * Floating weights are uniform in [-scale, scale] (BatchNorm `running_var` around 1); integer weights are zeros.
 *
 * @example
 * const shapes = await readWeightsShapes('tooling/bench/models/google/vit-base-patch16-224/weights-shapes.json');
 * await writeSafetensors('/tmp/vit/model.safetensors', randomWeights(shapes, { seed: 1 }));
 */
export function randomWeights(shapes: WeightsShapes, options: RandomWeightsOptions = {}): WeightEntry[] {
  return Object.entries(shapes.tensors).map(([key, { dtype, shape }]) => {
    if (!isWeightDtype(dtype)) {
      throw new FixtureFormatError(
        `weights-shapes: '${key}' has dtype ${JSON.stringify(dtype)}, which is not a checkpoint dtype`,
      );
    }
    const count = shape.reduce((a, b) => a * b, 1);
    return { key, dtype, shape, data: () => randomData(key, dtype, count, options) };
  });
}

/** Reads a `weights-shapes.json`. */
export async function readWeightsShapes(file: string): Promise<WeightsShapes> {
  let json: WeightsShapes;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as WeightsShapes;
  } catch (error) {
    throw new FixtureFormatError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  if (
    typeof json !== 'object' ||
    json === null ||
    typeof json.tensors !== 'object' ||
    json.tensors === null
  ) {
    throw new FixtureFormatError(`${file} has no "tensors" object: not a weights-shapes.json`);
  }
  return json;
}

/**
 * Writes a random full-size checkpoint (`model.safetensors` or a torch zip `pytorch_model.bin`) from a
 * `weights-shapes.json`, one weight in memory at a time.
 *
 * @example
 * await writeRandomCheckpoint('/tmp/altclip/model.safetensors', 'tooling/bench/models/BAAI/AltCLIP/weights-shapes.json');
 */
export async function writeRandomCheckpoint(
  path: string,
  shapes: WeightsShapes | string,
  options: RandomWeightsOptions & { format?: 'safetensors' | 'pytorch' } = {},
): Promise<void> {
  const entries = randomWeights(
    typeof shapes === 'string' ? await readWeightsShapes(shapes) : shapes,
    options,
  );
  if ((options.format ?? 'safetensors') === 'safetensors') await writeSafetensors(path, entries);
  else await writeTorchCheckpoint(path, entries);
}

/**
 * A `Checkpoint` over a `weights-shapes.json` without writing it: every key with its dtype and shape, and the
 * floating weights `randomWeights` would write, made when read (as float32). For tests that describe a full-size
 * graph (which reads only the index) in milliseconds; integer weights cannot be read.
 *
 * @example
 * ```ts
 * const shapes = await readWeightsShapes('tooling/bench/models/deepmind/vision-perceiver-learned/weights-shapes.json');
 * const { graph } = buildPerceiverForImageClassificationLearned(config, weightsShapesCheckpoint(shapes));
 * ```
 */
export function weightsShapesCheckpoint(
  shapes: WeightsShapes,
  options: RandomWeightsOptions & { name?: string } = {},
): Checkpoint {
  const name = options.name ?? 'weights-shapes.safetensors';
  const entries = new Map(randomWeights(shapes, options).map((entry) => [entry.key, entry]));
  let closed = false;
  const entry = (key: string): WeightEntry => {
    const found = entries.get(key);
    if (!found) throw new CheckpointError(`${name} has no weight '${key}'`);
    return found;
  };
  const readFloat32 = async (key: string): Promise<Tensor<'float32'>> => {
    if (closed) throw new CheckpointError(`${name} was closed; open it again to read '${key}'`);
    const { dtype, shape } = entry(key);
    if (dtype !== 'float32' && dtype !== 'float64' && dtype !== 'float16' && dtype !== 'bfloat16') {
      throw new CheckpointError(`${name}: '${key}' is ${dtype}, not a floating weight`);
    }
    // The float32 draw for every floating dtype: the same values randomWeights writes as float32.
    const count = shape.reduce((a, b) => a * b, 1);
    return new Tensor('float32', randomData(key, 'float32', count, options) as Float32Array, shape);
  };
  return {
    files: [name],
    keys: () => [...entries.keys()],
    has: (key) => entries.has(key),
    info(key): WeightInfo {
      const { dtype, shape } = entry(key);
      return { key, dtype, shape, file: name };
    },
    read: readFloat32,
    readFloat32,
    async close() {
      closed = true;
    },
  };
}
