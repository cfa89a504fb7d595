import * as ort from 'onnxruntime-node';
import { openCheckpoint } from '../checkpoint/open-checkpoint.js';
import { InvalidArgumentError } from '../errors.js';
import {
  type CheckpointGraphsClass,
  describeCheckpointGraphs,
  writeDescribedGraph,
} from '../modeling/build-checkpoint-graphs.js';
import type { GraphDtype } from '../onnx/module.js';
import { ModelSession, type NamedTensors } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Comparison } from './compare.js';
import { fixturePath } from './fixtures.js';
import { loadFixture } from './manifest.js';
import { checkModelCase } from './model-cases.js';

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

/** One output of one model case, run on a built graph. */
export interface GraphCaseResult {
  readonly case: string;
  readonly graph: string;
  readonly output: string;
  readonly comparison: Comparison;
  /** What the graph returned for this output. */
  readonly actual: Tensor | undefined;
}

/**
 * Runs every model case of a fixture's manifest on the graphs given (manifest graph name -> file, as
 * `writeCheckpointGraphs` returns), each case on the graph it names, and compares every expected output at the
 * case's tolerance. A case whose graph is not among `graphs` is an error, so that none is left out, unless
 * `partial` (a tower class that builds some of the fixture's graphs): those cases are then skipped.
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
  const sessions = new Map<string, ModelSession>();
  const results: GraphCaseResult[] = [];
  try {
    for (const testCase of manifest.model) {
      const file = graphs[testCase.graph];
      if (file === undefined && partial) continue;
      if (file === undefined) {
        throw new InvalidArgumentError(
          `model case '${testCase.name}' runs ${testCase.graph}, which was not built (built: ${Object.keys(graphs).join(', ')})`,
        );
      }
      let session = sessions.get(file);
      if (!session) {
        session = await ModelSession.create(file);
        sessions.set(file, session);
      }
      let outputs: NamedTensors = {};
      const run = session;
      const model = {
        forward: async (feeds: NamedTensors) => {
          outputs = await run.run(feeds);
          return outputs;
        },
      };
      for (const { output, comparison } of await checkModelCase(model, fixture, testCase)) {
        results.push({
          case: testCase.name,
          graph: testCase.graph,
          output,
          comparison,
          actual: outputs[output],
        });
      }
    }
    return results;
  } finally {
    for (const session of sessions.values()) await session.dispose();
  }
}

/**
 * max |a - b| / max |a|: how far `b` strays from `a`, relative to `a`'s largest value (how the q8 and fp16 builds
 * are bounded against fp32). 0 for two all-zero tensors.
 *
 * @example
 * ```ts
 * worstRelativeError(Float32Array.of(2, -4), Float32Array.of(2.1, -4)); // 0.025
 * ```
 */
export function worstRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new InvalidArgumentError(`cannot compare ${a.length} values with ${b.length}`);
  }
  let largest = 0;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    largest = Math.max(largest, Math.abs(a[i]!));
    worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  }
  return largest === 0 ? worst : worst / largest;
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
