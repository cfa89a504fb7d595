import * as ort from 'onnxruntime-node';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { InvalidArgumentError } from '../errors.js';
import {
  type CheckpointGraphsClass,
  describeCheckpointGraphs,
  writeDescribedGraph,
} from '../modeling/build-checkpoint-graphs.js';
import type { GraphDtype } from '../onnx/module.js';
import type { Tensor } from '../tensor/tensor.js';
import { describeComparison, differenceRelativeToLargest } from './compare.js';
import { fixturePath } from './fixtures.js';
import { loadFixture } from './manifest.js';
import { memoryCheckpoint } from './memory-checkpoint.js';
import { type ModelCaseResult, checkGraphModelCases } from './model-cases.js';

/**
 * Builds every graph a model class declares in `checkpointGraphs` from the checkpoint in `folder` (all graphs
 * described first, so the checkpoint's keys are checked as a whole) and writes them to `dir` for `dtype`. Returns
 * each written file by the name the manifests use, `onnx/<graph file>.onnx` (fp32 names whatever the dtype, so a
 * q8 build runs the same cases).
 *
 * @example
 * ```ts
 * const graphs = await writeCheckpointGraphs(ViTForImageClassification, config, fixturePath('vit-cls'), 'q8', dir);
 * graphs['onnx/model.onnx']; // '<dir>/model_quantized.onnx'
 * ```
 */
export async function writeCheckpointGraphs<C>(
  modelClass: CheckpointGraphsClass<C>,
  config: C,
  folder: string,
  dtype: GraphDtype,
  dir: string,
): Promise<Record<string, string>> {
  const described = describeCheckpointGraphs(modelClass, config, await openCheckpoint(folder), dtype);
  try {
    const written: Record<string, string> = {};
    for (const graph of Object.keys(described.graphs)) {
      written[`onnx/${modelClass.graphs[graph]}.onnx`] = await writeDescribedGraph(
        modelClass,
        described,
        graph,
        dir,
      );
    }
    return written;
  } finally {
    await described.weights.close();
  }
}

/** One output of one model case, run on a built graph (`checkGraphModelCases`' result with its graph). */
export interface GraphCaseResult extends ModelCaseResult {
  /** The manifest's graph name, `onnx/text_model.onnx`. */
  readonly graph: string;
}

/**
 * Runs every model case of a fixture's manifest on the graphs given (manifest graph name -> file, as
 * `writeCheckpointGraphs` returns), each case on the graph it names (`checkGraphModelCases`), and compares every
 * expected output at the case's tolerance. A case whose graph is not among `graphs` is an error, so that none is
 * left out, unless `partial` (a tower class that builds some of the fixture's graphs): those cases are skipped.
 *
 * @example
 * ```ts
 * for (const r of await runFixtureModelCases('clipseg', graphs)) expect(r.comparison.ok).toBe(true);
 * ```
 */
export async function runFixtureModelCases(
  fixture: string,
  graphs: Readonly<Record<string, string>>,
  { partial = false }: { partial?: boolean } = {},
): Promise<GraphCaseResult[]> {
  const { manifest } = await loadFixture(fixturePath(fixture));
  const missing = manifest.model.find((c) => graphs[c.graph] === undefined);
  if (missing && !partial) {
    throw new InvalidArgumentError(
      `model case '${missing.name}' runs ${missing.graph}, which was not built (built: ${Object.keys(graphs).join(', ')})`,
    );
  }
  const results: GraphCaseResult[] = [];
  for (const [graph, file] of Object.entries(graphs)) {
    for (const result of await checkGraphModelCases(fixture, file, graph)) results.push({ ...result, graph });
  }
  return results;
}

/** A model class's graphs built from a fixture's checkpoint, and what they gave on the fixture's model cases. */
export interface FixtureGraphsCheck {
  /** Manifest graph name (`onnx/model.onnx`) -> written file. */
  readonly graphs: Readonly<Record<string, string>>;
  readonly results: readonly GraphCaseResult[];
  /** The model cases run, by name, in manifest order. */
  readonly cases: readonly string[];
  /** One line per output outside its case's tolerance (empty when all pass), saying where and by how much. */
  readonly failures: readonly string[];
}

/**
 * Builds every graph `modelClass` declares from the checkpoint of fixture `fixture` for `dtype` (into `dir`) and
 * runs the fixture's model cases on them (`runFixtureModelCases`; with `partial`, only the cases on graphs the
 * class builds).
 *
 * @example
 * ```ts
 * const check = await checkFixtureGraphs(CLIPSegForImageSegmentation, config, 'clipseg', 'fp32', dir);
 * expect(check.failures).toEqual([]);
 * ```
 */
export async function checkFixtureGraphs<C>(
  modelClass: CheckpointGraphsClass<C>,
  config: C,
  fixture: string,
  dtype: GraphDtype,
  dir: string,
  options: { partial?: boolean } = {},
): Promise<FixtureGraphsCheck> {
  const graphs = await writeCheckpointGraphs(modelClass, config, fixturePath(fixture), dtype, dir);
  const results = await runFixtureModelCases(fixture, graphs, options);
  return {
    graphs,
    results,
    cases: [...new Set(results.map((r) => r.case))],
    failures: results
      .filter((r) => !r.comparison.ok)
      .map((r) => `${r.case} ${r.output}: ${describeComparison(r.comparison)}`),
  };
}

/**
 * How far each output of `variant` strays from the same output of `reference` (the same cases run on graphs of
 * another dtype), as `differenceRelativeToLargest`; elements where `skip` holds for the reference value (a fill value such
 * as OWLv2's -1e6 masked logits) are left out.
 *
 * @example
 * ```ts
 * const errors = relativeErrors(fp32.results, q8.results);
 * expect(errors.filter((e) => e.error >= 0.05)).toEqual([]);
 * ```
 */
export function relativeErrors(
  reference: readonly GraphCaseResult[],
  variant: readonly GraphCaseResult[],
  skip: (value: number) => boolean = () => false,
): { case: string; output: string; error: number }[] {
  return reference.map((r, i) => {
    const other = variant[i];
    if (!other || other.case !== r.case || other.output !== r.output) {
      throw new InvalidArgumentError(
        `the variant's results do not follow the reference's at ${r.case} ${r.output}`,
      );
    }
    const a = r.actual!.data as Float32Array;
    const b = other.actual!.data as Float32Array;
    const kept = [...a.keys()].filter((j) => !skip(a[j]!));
    if (kept.length === 0) return { case: r.case, output: r.output, error: 0 };
    const error = differenceRelativeToLargest(
      kept.map((j) => b[j]!),
      kept.map((j) => a[j]!),
    );
    return { case: r.case, output: r.output, error };
  });
}

/**
 * A fixture's checkpoint held in memory with its keys changed: `rename` gives each stored key its new name, or
 * undefined to leave the weight out. For the typed errors of a builder given the wrong checkpoint (a head
 * missing, a base model's keys without the prefix).
 *
 * @example
 * ```ts
 * const noDecoder = await fixtureCheckpointWith('clipseg', (key) => (key.startsWith('decoder.') ? undefined : key));
 * ```
 */
export async function fixtureCheckpointWith(
  fixture: string,
  rename: (key: string) => string | undefined,
  name = 'memory.safetensors',
): Promise<Checkpoint> {
  const source = await openCheckpoint(fixturePath(fixture));
  try {
    const weights: Record<string, Tensor<'float32'>> = {};
    for (const key of source.keys()) {
      const renamed = rename(key);
      if (renamed !== undefined) weights[renamed] = await source.readFloat32(key);
    }
    return memoryCheckpoint(weights, name);
  } finally {
    await source.close();
  }
}

/** A graph input or output as ONNX Runtime reports it. */
export interface BoundaryValueInfo {
  readonly name: string;
  /** Element type ('float32', 'int64', 'bool', ...). */
  readonly type: string;
  /** Sizes and symbolic names (`'batch_size'`). */
  readonly dims: readonly (number | string)[];
}

/**
 * A graph file's inputs and outputs as ONNX Runtime loads them (names, element types, dims with their symbolic
 * names), for checking that a built graph can stand in for an exported one. Unlike `readOnnxModel`, it reads any
 * exporter's file (float64 constants included).
 *
 * @example
 * ```ts
 * expect((await graphBoundary(built)).inputs).toEqual((await graphBoundary('fixtures/owlv2/onnx/model.onnx')).inputs);
 * ```
 */
export async function graphBoundary(
  path: string,
): Promise<{ inputs: BoundaryValueInfo[]; outputs: BoundaryValueInfo[] }> {
  const session = await ort.InferenceSession.create(path);
  try {
    const describe = (values: readonly ort.InferenceSession.ValueMetadata[]): BoundaryValueInfo[] =>
      values.map((v) =>
        v.isTensor
          ? { name: v.name, type: v.type, dims: [...v.shape] }
          : { name: v.name, type: 'non-tensor', dims: [] },
      );
    return { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) };
  } finally {
    await session.release();
  }
}

/**
 * How a built graph's inputs and outputs differ from an exported graph's, as lines (none when they agree): every
 * name on both sides, and for each its element type, rank and first (batch) dimension, symbolic name included, so
 * that a package cannot tell the two apart; with `inputSizes` (default true), also every size the exported graph
 * fixes on an input.
 *
 * @example
 * ```ts
 * expect(await boundaryDifferences(built, 'fixtures/owlv2/onnx/model.onnx')).toEqual([]);
 * ```
 */
export async function boundaryDifferences(
  built: string,
  exported: string,
  { inputSizes = true }: { inputSizes?: boolean } = {},
): Promise<string[]> {
  const [ours, theirs] = [await graphBoundary(built), await graphBoundary(exported)];
  const differences: string[] = [];
  for (const side of ['inputs', 'outputs'] as const) {
    const mine = new Map(ours[side].map((v) => [v.name, v]));
    for (const want of theirs[side]) {
      const got = mine.get(want.name);
      mine.delete(want.name);
      const where = `${side.slice(0, -1)} '${want.name}'`;
      if (!got) differences.push(`${where} is missing`);
      else if (got.type !== want.type) differences.push(`${where} is ${got.type}, exported ${want.type}`);
      else if (got.dims.length !== want.dims.length || got.dims[0] !== want.dims[0]) {
        differences.push(`${where} is [${got.dims.join(', ')}], exported [${want.dims.join(', ')}]`);
      } else if (side === 'inputs' && inputSizes) {
        const fixed = want.dims.findIndex((d, i) => typeof d === 'number' && got.dims[i] !== d);
        if (fixed >= 0)
          differences.push(`${where} is [${got.dims.join(', ')}], exported [${want.dims.join(', ')}]`);
      }
    }
    for (const extra of mine.keys())
      differences.push(`${side.slice(0, -1)} '${extra}' is not in the exported graph`);
  }
  return differences;
}
