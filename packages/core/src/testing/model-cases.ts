import type { PretrainedOptions } from '../modeling/pretrained-options.js';
import { ModelSession, type NamedTensors } from '../runtime/session.js';
import type { Tensor } from '../tensor/tensor.js';
import { type JsonComparison, type ResultValue, compareJson } from './compare-json.js';
import { type Comparison, compareTensors, describeComparison } from './compare.js';
import { fixtureImagePath, fixturePath } from './fixtures.js';
import { type JsonValue, type ModelCase, type PipelineCase, loadFixture } from './manifest.js';
import { readNpy } from './npy.js';

/** Anything with a model class's `forward` on named tensors. */
export interface ForwardModel {
  forward(inputs: never): Promise<NamedTensors>;
}

/**
 * A model class as the case runners need it, whatever its own forward output type: a table of a package's classes
 * typed `Record<string, LoadableForwardModelClass>` can be indexed by a manifest's class name.
 */
export interface LoadableForwardModelClass {
  fromPretrained(path: string): Promise<ForwardModel & { dispose(): Promise<void> }>;
}

/**
 * Runs a fixture's model case through a model class (feeds from the case's .npy files) and compares each expected
 * output at the case's atol/rtol. An output the model does not return counts as a shape mismatch.
 */
export async function checkModelCase(
  model: ForwardModel,
  fixture: string,
  testCase: ModelCase,
): Promise<{ output: string; comparison: Comparison }[]> {
  const feeds: Record<string, Tensor> = {};
  for (const [input, file] of Object.entries(testCase.feeds))
    feeds[input] = await readNpy(fixturePath(fixture, file));
  const outputs: Record<string, Tensor | undefined> = await model.forward(feeds as never);
  const results: { output: string; comparison: Comparison }[] = [];
  for (const [output, file] of Object.entries(testCase.expected)) {
    const expected = await readNpy(fixturePath(fixture, file));
    const actual = outputs[output];
    const comparison: Comparison = actual
      ? compareTensors(actual, expected, { atol: testCase.atol, rtol: testCase.rtol })
      : {
          ok: false,
          worstAbsError: Number.POSITIVE_INFINITY,
          worstIndex: -1,
          worstPosition: [],
          worstActual: Number.NaN,
          worstExpected: Number.NaN,
          countBeyond: expected.size,
          total: expected.size,
          shapeMismatch: `no output '${output}' (got ${Object.keys(outputs).join(', ') || 'nothing'})`,
        };
    results.push({ output, comparison });
  }
  return results;
}

/** One expected output of one model case, compared. */
export interface ModelCaseResult {
  readonly case: string;
  readonly output: string;
  readonly comparison: Comparison;
  /** What the graph returned for this output (to compare a q8 or fp16 build with fp32 on the same case). */
  readonly actual?: Tensor;
}

/**
 * Runs every model case of a fixture that targets `graph` (a manifest graph key such as 'onnx/model.onnx') on the
 * ONNX file at `graphPath` (a graph built from the fixture's checkpoint, say) and compares each expected output at
 * the case's tolerance. A fixture without such a case gives an empty list: assert on its length.
 *
 * @example
 * ```ts
 * for (const r of await checkGraphModelCases('vit-cls', '/tmp/vit-cls/model.onnx')) {
 *   if (!r.comparison.ok) console.log(r.case, r.output, describeComparison(r.comparison));
 * }
 * ```
 */
export async function checkGraphModelCases(
  fixture: string,
  graphPath: string,
  graph = 'onnx/model.onnx',
): Promise<ModelCaseResult[]> {
  const { manifest } = await loadFixture(fixturePath(fixture));
  const session = await ModelSession.create(graphPath);
  try {
    let outputs: NamedTensors = {};
    const model = {
      forward: async (feeds: NamedTensors) => {
        outputs = await session.run(feeds);
        return outputs;
      },
    };
    const results: ModelCaseResult[] = [];
    for (const testCase of manifest.model.filter((c) => c.graph === graph)) {
      for (const { output, comparison } of await checkModelCase(model, fixture, testCase)) {
        results.push({ case: testCase.name, output, comparison, actual: outputs[output] });
      }
    }
    return results;
  } finally {
    await session.dispose();
  }
}

/**
 * Runs every model case of a fixture (or those on `graph`) through a loaded model class (its `forward`, on the
 * case's feeds) and compares each expected output at the case's tolerance: what a model must answer whatever its
 * graph is (exported, or built from the checkpoint).
 *
 * @example
 * ```ts
 * const model = await ViTForImageClassification.fromPretrained(folderWithoutOnnx);
 * for (const r of await checkModelCases(model, 'vit-cls')) expect(r.comparison.ok).toBe(true);
 * ```
 */
export async function checkModelCases(
  model: ForwardModel,
  fixture: string,
  graph?: string,
): Promise<ModelCaseResult[]> {
  const { manifest } = await loadFixture(fixturePath(fixture));
  const results: ModelCaseResult[] = [];
  for (const testCase of manifest.model.filter((c) => graph === undefined || c.graph === graph)) {
    for (const { output, comparison } of await checkModelCase(model, fixture, testCase)) {
      results.push({ case: testCase.name, output, comparison });
    }
  }
  return results;
}

/** A case's feeds -> the outputs to compare, as one graph of a loaded model class runs them. */
export type GraphForward = (feeds: NamedTensors) => Promise<NamedTensors>;

/** What `checkClassModelCases` loads: a model class, whatever its forward's types. */
export interface LoadableModelClass {
  readonly name: string;
  /** Graph key -> file name (`{ model: 'model' }`), as `PreTrainedModel.graphs`. */
  readonly graphs: Readonly<Record<string, string>>;
  fromPretrained(path: string, options?: PretrainedOptions): Promise<{ dispose(): Promise<void> }>;
}

/** A model class and how each of its graphs is run on a model case's feeds (`classModelCases`). */
export interface ClassModelCases {
  readonly modelClass: LoadableModelClass;
  readonly forwards: (model: never) => Readonly<Record<string, GraphForward>>;
}

/**
 * Pairs a model class with how its loaded instance runs each of its graphs (graph key -> a function of a case's
 * feeds, typically a method of the model), for `checkClassModelCases`. `M` is the class's instance type.
 *
 * @example
 * ```ts
 * const cases = classModelCases(CLIPSegModel, (model: CLIPSegModel) => ({
 *   text_model: async (feeds) => ({ text_embeds: await model.getTextFeatures(feeds as never) }),
 *   vision_model: async (feeds) => ({ image_embeds: await model.getImageFeatures(feeds as never) }),
 * }));
 * ```
 */
export function classModelCases<M>(
  modelClass: LoadableModelClass,
  forwards: (model: M) => Readonly<Record<string, GraphForward>>,
): ClassModelCases {
  return { modelClass, forwards: forwards as (model: never) => Readonly<Record<string, GraphForward>> };
}

/**
 * Loads a model class from `path` and runs every model case of each of its graphs the way the class runs that graph
 * (`classModelCases`), comparing each expected output at the case's tolerance; the model is released at the end.
 * Every graph of the class is checked or the call fails: it throws when the forwards and the class's `graphs` name
 * different graphs, or when the fixture has no case on one of them.
 *
 * @example
 * ```ts
 * const folder = await fixtureVariant('clipseg', join(tmp, 'clipseg'), { onnx: null });
 * const results = await checkClassModelCases('clipseg', cases, folder, { graphCacheDir: join(tmp, 'graphs') });
 * expect(failedCases(results)).toEqual([]);
 * ```
 */
export async function checkClassModelCases(
  fixture: string,
  { modelClass, forwards }: ClassModelCases,
  path: string,
  options: PretrainedOptions = {},
): Promise<ModelCaseResult[]> {
  const model = await modelClass.fromPretrained(path, options);
  try {
    const table = forwards(model as never);
    const names = (record: object) => Object.keys(record).sort().join(', ');
    if (names(table) !== names(modelClass.graphs)) {
      throw new Error(
        `${modelClass.name} has the graphs ${names(modelClass.graphs)}, but the forwards run ${names(table)}`,
      );
    }
    const results: ModelCaseResult[] = [];
    for (const [graph, forward] of Object.entries(table)) {
      const file = `onnx/${modelClass.graphs[graph]}.onnx`;
      const ofGraph = await checkModelCases({ forward }, fixture, file);
      if (ofGraph.length === 0) throw new Error(`${fixture} has no model case on ${file}`);
      results.push(...ofGraph);
    }
    return results;
  } finally {
    await model.dispose();
  }
}

/** One pipeline case, compared as JSON (numbers within the case's atol). */
export interface PipelineCaseResult {
  readonly case: string;
  readonly comparison: JsonComparison;
}

/**
 * Runs every pipeline case of a fixture for `task` through `run` (given the case and its images as paths of the
 * shared images folder) and compares the result with the expected JSON at the case's atol.
 *
 * @example
 * ```ts
 * const classify = await imageClassification(folderWithoutOnnx);
 * const results = await checkPipelineCases('vit-cls', 'image-classification', (c, images) =>
 *   classify(images.length === 1 ? images[0]! : images, classifyOptionsFromKwargs(c.kwargs)));
 * ```
 */
export async function checkPipelineCases(
  fixture: string,
  task: string,
  run: (testCase: PipelineCase, images: string[]) => Promise<unknown>,
): Promise<PipelineCaseResult[]> {
  const { manifest } = await loadFixture(fixturePath(fixture));
  const results: PipelineCaseResult[] = [];
  for (const testCase of manifest.pipeline.filter((c) => c.task === task)) {
    const images = Array.isArray(testCase.inputs.images)
      ? (testCase.inputs.images as string[]).map((name) => fixtureImagePath(name))
      : [];
    const actual = (await run(testCase, images)) as ResultValue;
    const comparison = await compareJson(actual, testCase.expected as JsonValue, testCase.atol ?? 0, (file) =>
      readNpy(fixturePath(fixture, file)),
    );
    results.push({ case: testCase.name, comparison });
  }
  return results;
}

/**
 * The cases of `results` that failed, one line each (`batch2 logits: worst 0.5 at [1, 2] ...`), empty when every case
 * passed: `expect(failedCases(results)).toEqual([])` names them all in one assertion. An empty `results` is a failure
 * too (a fixture without such a case checks nothing).
 */
export function failedCases(results: readonly (ModelCaseResult | PipelineCaseResult)[]): string[] {
  if (results.length === 0) return ['no case was run'];
  return results.flatMap((r) => {
    if (r.comparison.ok) return [];
    return 'output' in r
      ? [`${r.case} ${r.output}: ${describeComparison(r.comparison)}`]
      : [`${r.case}: ${r.comparison.mismatch}`];
  });
}
