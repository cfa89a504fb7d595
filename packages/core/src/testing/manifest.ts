import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FixtureFormatError } from '../errors.js';

/** JSON as it appears in manifests. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface GraphDescription {
  /** The Python class or method the graph stands for. */
  describes: string;
  inputs: string[];
  outputs: string[];
}

interface CaseBase {
  name: string;
  note?: string;
  atol?: number;
  rtol?: number;
  /** Any further fields of the case (e.g. `torch_topk_order`), kept as read. */
  [extra: string]: JsonValue | undefined;
}

/** A processor or tokenizer call: raw inputs (image file names under images/, text) -> named .npy outputs. */
export interface ProcessorCase extends CaseBase {
  call: string;
  inputs: { [key: string]: JsonValue };
  kwargs: { [key: string]: JsonValue };
  outputs: { [name: string]: string };
}

/** One graph run: named .npy feeds -> named .npy expected outputs. */
export interface ModelCase extends CaseBase {
  graph: string;
  feeds: { [name: string]: string };
  expected: { [name: string]: string };
}

/** A post-processing call on given model outputs; `expected` is JSON where `{ "npy": path }` stands for an array. */
export interface PostprocessCase extends CaseBase {
  call: string;
  inputs: { [key: string]: JsonValue };
  kwargs: { [key: string]: JsonValue };
  expected: JsonValue;
}

/** End to end: raw inputs -> the task's final JSON result. */
export interface PipelineCase extends CaseBase {
  task: string;
  inputs: { [key: string]: JsonValue };
  kwargs: { [key: string]: JsonValue };
  expected: JsonValue;
}

export interface FixtureManifest {
  fixture: string;
  model_type: string;
  description: string;
  generated_by: string;
  graphs: { [file: string]: GraphDescription };
  processor: ProcessorCase[];
  model: ModelCase[];
  postprocess: PostprocessCase[];
  pipeline: PipelineCase[];
  [extra: string]: JsonValue | undefined | object;
}

/** A manifest together with where it was read from, so relative paths can be resolved. */
export interface Fixture {
  /** The fixture folder (holding config.json, onnx/, reference/). */
  dir: string;
  /** The shared images folder (`<fixture>/../images`). */
  imagesDir: string;
  manifest: FixtureManifest;
}

export const caseKinds = ['processor', 'model', 'postprocess', 'pipeline'] as const;
export type CaseKind = (typeof caseKinds)[number];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectField(
  source: string,
  where: string,
  object: Record<string, unknown>,
  key: string,
  type: string,
) {
  const value = object[key];
  const ok =
    type === 'object' ? isObject(value) : type === 'array' ? Array.isArray(value) : typeof value === 'string';
  if (!ok) {
    throw new FixtureFormatError(
      `${source}: ${where}.${key} must be ${type === 'object' || type === 'array' ? `an ${type}` : `a ${type}`}, got ${JSON.stringify(value)?.slice(0, 80)}`,
    );
  }
}

type FieldType = 'string' | 'object' | 'array';

const caseFields: Record<CaseKind, [string, FieldType][]> = {
  processor: [
    ['name', 'string'],
    ['call', 'string'],
    ['inputs', 'object'],
    ['kwargs', 'object'],
    ['outputs', 'object'],
  ],
  model: [
    ['name', 'string'],
    ['graph', 'string'],
    ['feeds', 'object'],
    ['expected', 'object'],
  ],
  postprocess: [
    ['name', 'string'],
    ['call', 'string'],
    ['inputs', 'object'],
    ['kwargs', 'object'],
  ],
  pipeline: [
    ['name', 'string'],
    ['task', 'string'],
    ['inputs', 'object'],
    ['kwargs', 'object'],
  ],
};

/** Validates parsed manifest JSON against the documented format (fixtures/README.md) and types it. */
export function validateManifest(value: unknown, source = 'manifest.json'): FixtureManifest {
  if (!isObject(value)) throw new FixtureFormatError(`${source}: the manifest must be a JSON object`);
  expectField(source, 'manifest', value, 'fixture', 'string');
  expectField(source, 'manifest', value, 'model_type', 'string');
  expectField(source, 'manifest', value, 'graphs', 'object');
  for (const kind of caseKinds) {
    value[kind] ??= [];
    expectField(source, 'manifest', value, kind, 'array');
    (value[kind] as unknown[]).forEach((item, index) => {
      const where = `${kind}[${index}]`;
      if (!isObject(item)) throw new FixtureFormatError(`${source}: ${where} must be an object`);
      for (const [key, type] of caseFields[kind]) expectField(source, where, item, key, type);
      for (const key of ['atol', 'rtol'] as const) {
        if (item[key] !== undefined && (typeof item[key] !== 'number' || !(item[key] >= 0))) {
          throw new FixtureFormatError(`${source}: ${where}.${key} must be a number >= 0`);
        }
      }
    });
  }
  value.description ??= '';
  value.generated_by ??= '';
  return value as unknown as FixtureManifest;
}

/** Reads `<dir>/reference/manifest.json`. Images are looked up in `<dir>/../images` unless `imagesDir` is given. */
export async function loadFixture(dir: string, imagesDir = join(dir, '..', 'images')): Promise<Fixture> {
  const path = join(dir, 'reference', 'manifest.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FixtureFormatError(`no fixture manifest at ${path}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FixtureFormatError(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return { dir, imagesDir, manifest: validateManifest(json, path) };
}

/** True for `{ "npy": "reference/....npy" }`, the manifest's stand-in for a large array. */
export function isNpyReference(value: unknown): value is { npy: string } {
  return isObject(value) && typeof value.npy === 'string' && Object.keys(value).length === 1;
}
