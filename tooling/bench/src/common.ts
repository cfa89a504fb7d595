import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type ClassificationConfig,
  type GraphDtype,
  type Tensor,
  type WeightData,
  type WeightEntry,
  classifyLogits,
  defaultSessionOptions,
  graphFileName,
  writeSafetensors,
} from '@ortvision/core';
import {
  type WeightsShapes,
  differenceRelativeToLargest,
  fixtureImagePath,
  readOnnxModel,
  readWeightsShapes,
  writeTorchCheckpoint,
} from '@ortvision/core/testing';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  type BenchOptions,
  type SuiteResult,
  type Variant,
  compare,
  median,
  medianOf,
  overheadShare,
  peakRssMiB,
  ratio,
  round,
  samplesResult,
} from './harness.js';

// What every model suite shares: where the bench models are, the one set of session options, the two photos,
// transformers.js set up to read the same folders, the ratios the goals are stated in, and the cold start child.

export const modelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'models');

/** A bench model's folder. Bench models are stored under their Hub ids so transformers.js finds them too. */
export function benchModel(hubId: string): string {
  return join(modelsDir, hubId);
}

/**
 * The session options of every session in the bench (ortvision's, transformers.js's and the floor's), so that
 * thread counts and graph optimizations match: ortvision's defaults (intra-op threads = physical cores, all
 * graph optimizations), which `session-options.bench.ts` measures against the alternatives.
 */
export const sessionOptions: ort.InferenceSession.SessionOptions = defaultSessionOptions();

export interface Photo {
  name: string;
  bytes: Buffer;
}

/**
 * The two photos of the issue, as JPEG bytes: cats.png (640x480, the COCO cats) and chelsea.png stretched to
 * 1920x1080. Quick mode uses the 640x480 one only.
 */
export async function photos(quick: boolean): Promise<Photo[]> {
  const photo640 = await sharp(fixtureImagePath('cats.png')).jpeg({ quality: 90 }).toBuffer();
  if (quick) return [{ name: '640x480 JPEG', bytes: photo640 }];
  const photo1080 = await sharp(fixtureImagePath('chelsea.png'))
    .resize(1920, 1080, { fit: 'fill' })
    .jpeg({ quality: 90 })
    .toBuffer();
  return [
    { name: '640x480 JPEG', bytes: photo640 },
    { name: '1920x1080 JPEG', bytes: photo1080 },
  ];
}

/**
 * Warm-up and iterations: >= 10 measured runs in full mode (the issue's minimum), 3 in quick mode. `slow` models
 * (a second or more per run) warm up once: one run is enough for ONNX Runtime's allocations to settle.
 */
export function benchOptions(quick: boolean, { slow = false }: { slow?: boolean } = {}): BenchOptions {
  if (quick) return { warmup: 1, iterations: slow ? 2 : 3 };
  return { warmup: slow ? 1 : 2, iterations: 10 };
}

// biome-ignore lint/suspicious/noExplicitAny: transformers.js's pipelines, models and processors are untyped here
export type TransformersJs = any;

/**
 * `@huggingface/transformers`, reading the bench models' folders only (no network), or undefined when it is
 * not installed (it is a devDependency of the bench only).
 */
export async function transformersJs(): Promise<TransformersJs | undefined> {
  const moduleName = '@huggingface/transformers';
  let tjs: TransformersJs;
  try {
    tjs = await import(moduleName);
  } catch {
    return undefined;
  }
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = `${modelsDir}/`;
  return tjs;
}

/**
 * transformers.js's loading options: CPU, fp32 `onnx/model.onnx`, the same intra-op thread count as ours (the
 * issue's "same thread count"), and otherwise its own session defaults — our session defaults are part of what is
 * compared. `BENCH_SAME_SESSION_OPTIONS=1` gives transformers.js all of our options instead.
 */
export const transformersJsLoadOptions = {
  device: 'cpu',
  dtype: 'fp32',
  session_options:
    process.env.BENCH_SAME_SESSION_OPTIONS === '1'
      ? sessionOptions
      : { intraOpNumThreads: sessionOptions.intraOpNumThreads },
};

/** `RawImage` from encoded bytes, as transformers.js reads a file or URL. */
export function readImage(tjs: TransformersJs, bytes: Buffer): Promise<unknown> {
  return tjs.RawImage.fromBlob(new Blob([bytes]));
}

/** The floor: a plain onnxruntime-node session of the same graph with the same options. */
export function floorSession(modelDir: string, graph = 'model'): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(join(modelDir, 'onnx', `${graph}.onnx`), sessionOptions);
}

export const FLOOR = 'floor: session.run on a ready tensor';
export const OURS = 'ortvision end to end';
export const THEIRS = 'transformers.js end to end';

/**
 * The goals' figures from an end-to-end result with the variants OURS, FLOOR and (if present) THEIRS:
 * each pipeline's share outside session.run and ours / transformers.js. Added to the result in place.
 */
export function addEndToEndRatios(result: SuiteResult): SuiteResult {
  const floor = medianOf(result, FLOOR);
  const ours = medianOf(result, OURS);
  const ratios: Record<string, number> = {
    ...result.ratios,
    'ortvision overhead share ((e2e - floor) / e2e)': round(overheadShare(ours, floor)),
  };
  if (result.variants.some((v) => v.name === THEIRS)) {
    const theirs = medianOf(result, THEIRS);
    ratios['transformers.js overhead share ((e2e - floor) / e2e)'] = round(overheadShare(theirs, floor));
    ratios['ortvision / transformers.js end to end (< 1: ortvision faster)'] = round(ratio(ours, theirs));
  }
  result.ratios = ratios;
  return result;
}

/** Runs the end-to-end comparison and adds the ratios. */
export async function endToEnd(
  suite: string,
  caseName: string,
  variants: Variant[],
  options: BenchOptions,
): Promise<SuiteResult> {
  return addEndToEndRatios(await compare(suite, caseName, variants, options));
}

/** An image classifier as the ViT-like packages shape it (`forward({ pixel_values })` -> `{ logits }`). */
export interface PixelClassifier {
  readonly config: ClassificationConfig;
  forward(inputs: { pixel_values: Tensor<'float32'> }): Promise<{ logits: Tensor<'float32'> }>;
  dispose(): Promise<void>;
}

export interface PixelPreprocessor {
  preprocess(input: Buffer): Promise<{ pixel_values: Tensor<'float32'> }>;
}

type ClassifyFunction = ((image: Buffer, options?: { topK?: number }) => Promise<unknown>) & {
  dispose(): Promise<void>;
};

export interface ClassifierSuite<M extends PixelClassifier, P extends PixelPreprocessor> {
  suite: string;
  /** The model's name in the table, e.g. 'ViT-B/16'. */
  label: string;
  hubId: string;
  loadModel: (dir: string) => Promise<M>;
  loadProcessor: (dir: string) => Promise<P>;
  /** The package's `imageClassification` task helper, given the loaded model and processor. */
  task: (model: M, processor: P) => Promise<ClassifyFunction>;
  /** transformers.js supports the model: compare with its image-classification pipeline. */
  withTransformersJs: boolean;
  /** A second or more per run: warm up once, and leave model.forward out of the split (the floor is it). */
  slow?: boolean;
}

/**
 * The image classification suite of ViT, LeViT and Perceiver: ortvision's task helper end to end against the
 * floor (and transformers.js's pipeline where it supports the model), then the split of ortvision's call.
 */
export async function classifierSuite<M extends PixelClassifier, P extends PixelPreprocessor>(
  spec: ClassifierSuite<M, P>,
  quick: boolean,
): Promise<SuiteResult[]> {
  const dir = benchModel(spec.hubId);
  const model = await spec.loadModel(dir);
  const processor = await spec.loadProcessor(dir);
  // The task helper gets the loaded model, so it shares its session: one session less to create and hold.
  const classify = await spec.task(model, processor);
  const floor = await floorSession(dir);
  const tjs = spec.withTransformersJs ? await transformersJs() : undefined;
  const pipe = tjs
    ? await tjs.pipeline('image-classification', spec.hubId, transformersJsLoadOptions)
    : undefined;
  const options = benchOptions(quick, { slow: spec.slow });
  const results: SuiteResult[] = [];
  try {
    for (const photo of await photos(quick)) {
      const { pixel_values } = await processor.preprocess(photo.bytes);
      const inputName = floor.inputNames[0]!;
      const ready = new ort.Tensor('float32', pixel_values.data, pixel_values.dims);
      const { logits } = await model.forward({ pixel_values });
      const variants: Variant[] = [
        { name: OURS, run: () => classify(photo.bytes, { topK: 5 }) },
        { name: FLOOR, run: () => floor.run({ [inputName]: ready }) },
      ];
      if (pipe) {
        variants.push({
          name: THEIRS,
          run: async () => pipe(await readImage(tjs, photo.bytes), { top_k: 5 }),
        });
      }
      results.push(await endToEnd(spec.suite, `${spec.label} ${photo.name}: end to end`, variants, options));

      const split: Variant[] = [
        { name: 'ortvision decode+preprocess', run: () => processor.preprocess(photo.bytes) },
        { name: 'ortvision post-process', run: () => classifyLogits(logits, model.config, { topK: 5 }) },
      ];
      if (!spec.slow) {
        split.push({
          name: 'ortvision session.run (model.forward)',
          run: () => model.forward({ pixel_values }),
        });
      }
      if (pipe) {
        split.push({
          name: 'transformers.js decode+preprocess',
          run: async () => pipe.processor(await readImage(tjs, photo.bytes)),
        });
      }
      const splitResult = await compare(spec.suite, `${spec.label} ${photo.name}: split`, split, options);
      if (spec.slow)
        splitResult.notes = ['session.run is the floor of the end-to-end table (not re-run here)'];
      results.push(splitResult);
    }
  } finally {
    await classify.dispose();
    await model.dispose();
    await floor.release();
    await pipe?.dispose();
  }
  return results;
}

const execFileAsync = promisify(execFile);
const coldStartChild = join(dirname(fileURLToPath(import.meta.url)), 'cold-start-child.mjs');

export interface ColdStart {
  /** Process start to first result (node boot + import + load + first result), ms. */
  ms: number;
  /** Peak RSS of the child process, MiB (VmHWM: see `peakRssMiB`). */
  peakRssMiB: number;
}

/**
 * One cold start in a fresh node process (`cold-start-child.mjs`): `which` is 'ortvision' or
 * 'transformers.js', `task` a task the child knows. The child runs the built packages (dist/), as users do.
 */
export async function coldStart(
  which: string,
  task: string,
  modelDir: string,
  photo: Buffer,
): Promise<ColdStart> {
  const folder = mkdtempSync(join(tmpdir(), 'ortvision-cold-'));
  const image = join(folder, 'photo.jpg');
  writeFileSync(image, photo);
  const { stdout } = await execFileAsync(
    process.execPath,
    [coldStartChild, which, task, modelDir, image, JSON.stringify(sessionOptions)],
    { cwd: dirname(coldStartChild), maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ColdStart;
}

/** Whether the built ortvision packages the cold start child imports exist. */
export function builtPackagesPresent(packageNames: readonly string[]): boolean {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages');
  return packageNames.every((name) => existsSync(join(root, name, 'dist', 'index.js')));
}

/**
 * Cold starts of ortvision and transformers.js on the same model, alternated (A B A B) so drift hits both:
 * medians of `runs` each, with ours / theirs for time and peak RSS.
 */
export async function coldStartComparison(
  suite: string,
  label: string,
  task: string,
  modelDir: string,
  photo: Buffer,
  runs: number,
): Promise<SuiteResult> {
  const ours: ColdStart[] = [];
  const theirs: ColdStart[] = [];
  for (let i = 0; i < runs; i++) {
    ours.push(await coldStart('ortvision', task, modelDir, photo));
    theirs.push(await coldStart('transformers.js', task, modelDir, photo));
  }
  const summarize = (name: string, samples: ColdStart[]) =>
    samplesResult(
      name,
      samples.map((s) => s.ms),
    );
  const oursRss = median(ours.map((s) => s.peakRssMiB));
  const theirsRss = median(theirs.map((s) => s.peakRssMiB));
  const result: SuiteResult = {
    suite,
    case: `${label}: cold start (fresh process: node boot + import + load + first result)`,
    iterations: runs,
    variants: [summarize('ortvision cold start', ours), summarize('transformers.js cold start', theirs)],
    peakRssMiB: peakRssMiB(),
    ratios: {
      'ortvision cold start peak RSS MiB (median)': round(oursRss),
      'transformers.js cold start peak RSS MiB (median)': round(theirsRss),
      'ortvision / transformers.js cold start time': round(
        ratio(median(ours.map((s) => s.ms)), median(theirs.map((s) => s.ms))),
      ),
      'ortvision / transformers.js cold start peak RSS': round(ratio(oursRss, theirsRss)),
    },
    notes: ["peak RSS here is each child process's own (the table header's is the bench process's)"],
  };
  return result;
}

/**
 * Deterministic weights for every tensor of a bench model's `weights-shapes.json`, in ranges a trained model has,
 * so that activations neither vanish (denormals slow float math down) nor blow up through the layers: matrices and
 * kernels fan-in scaled, norm gains (1-D `weight`) and BatchNorm variances around 1, biases and means small, integer
 * tensors (step counters, index tables) zero. Timing does not depend on the values otherwise.
 */
export function benchWeights(shapes: WeightsShapes): WeightEntry[] {
  let seed = 1;
  return Object.entries(shapes.tensors).map(([key, { dtype, shape }]) => {
    const count = shape.reduce((a, b) => a * b, 1);
    const start = seed;
    seed += count;
    const data = (): WeightData => {
      if (dtype === 'int64') return new BigInt64Array(count);
      if (dtype !== 'float32')
        throw new Error(`bench weights: '${key}' is ${dtype}, only float32 and int64 are made`);
      const wave = (i: number) => Math.sin((start + i) * 0.618);
      const values = new Float32Array(count);
      if (shape.length > 1) {
        const scale = Math.sqrt(2 / (count / shape[0]!));
        for (let i = 0; i < count; i++) values[i] = wave(i) * scale;
      } else if (key.endsWith('running_var'))
        for (let i = 0; i < count; i++) values[i] = 1 + 0.5 * Math.abs(wave(i));
      else if (key.endsWith('weight')) for (let i = 0; i < count; i++) values[i] = 1 + 0.1 * wave(i);
      else for (let i = 0; i < count; i++) values[i] = 0.1 * wave(i);
      return values;
    };
    return { key, dtype: dtype as WeightEntry['dtype'], shape, data };
  });
}

/** A built graph's build, measured in its own process (`graph-build-child.ts`). */
export interface GraphBuildRun {
  ms: number;
  baselineRssMiB: number;
  peakRssMiB: number;
  paths: string[];
}

const graphBuildChild = join(dirname(fileURLToPath(import.meta.url)), 'graph-build-child.ts');

/** Builds `className` of `@ortvision/<packageName>` from the checkpoint in `modelDir` in a fresh process. */
export async function buildInChild(
  packageName: string,
  className: string,
  modelDir: string,
  dtype: GraphDtype,
  outDir: string,
): Promise<GraphBuildRun> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--conditions=@ortvision/source',
      '--import',
      'tsx',
      graphBuildChild,
      packageName,
      className,
      modelDir,
      dtype,
      outDir,
    ],
    { cwd: dirname(graphBuildChild), maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as GraphBuildRun;
}

const graphColdStartChild = join(dirname(fileURLToPath(import.meta.url)), 'graph-cold-start-child.ts');

/** One cold load + first run of a model class in a fresh process (`graph-cold-start-child.ts`). */
interface GraphColdStart {
  ms: number;
  peakRssMiB: number;
  /** Graph-build events seen: 0 when the graph came from the build cache or from onnx/. */
  builds: number;
}

async function graphColdStart(
  spec: BuiltGraphSuite,
  modelDir: string,
  graphSource: 'checkpoint' | 'onnx',
  graphCacheDir: string,
  feeds: Record<string, ort.Tensor>,
): Promise<GraphColdStart> {
  const dims = Object.fromEntries(
    Object.entries(feeds).map(([name, tensor]) => [name, { type: tensor.type, dims: tensor.dims }]),
  );
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--conditions=@ortvision/source',
      '--import',
      'tsx',
      graphColdStartChild,
      spec.packageName,
      spec.className,
      modelDir,
      graphSource,
      graphCacheDir,
      JSON.stringify(dims),
      JSON.stringify(sessionOptions),
    ],
    { cwd: dirname(graphColdStartChild), maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as GraphColdStart;
}

export const FROM_CACHED_BUILD = 'checkpoint folder, graph from the build cache';
export const FROM_EXPORT = 'exported folder (the built graphs in onnx/, graphSource onnx)';

/**
 * Cold start of the load path in fresh processes: `fromPretrained` + first run on the folder holding the checkpoint,
 * its graphs found in the build cache (what every load after the first does), against the same graphs as an exported
 * folder (every fp32 graph the build wrote, `onnx/<graph>.onnx` + `<graph>.onnx_data`, what `ortvision export`
 * writes: a class that loads several graphs eagerly, CLIPSeg's split set, loads the same ones from both), alternated
 * A B A B. Goal: <= 1.1x. The first load, which builds the graphs into the cache, is reported too.
 */
async function cachedBuildColdStart(
  spec: BuiltGraphSuite,
  checkpointDir: string,
  builtFp32: readonly string[],
  feeds: Record<string, ort.Tensor>,
  quick: boolean,
): Promise<SuiteResult> {
  const graphCacheDir = join(checkpointDir, 'graph-cache');
  const exportDir = join(checkpointDir, 'exported');
  await mkdir(join(exportDir, 'onnx'), { recursive: true });
  await copyFile(join(checkpointDir, 'config.json'), join(exportDir, 'config.json'));
  for (const file of builtFp32.flatMap((graph) => [graph, `${graph}_data`])) {
    if (existsSync(file)) await copyFile(file, join(exportDir, 'onnx', basename(file)));
  }
  const first = await graphColdStart(spec, checkpointDir, 'checkpoint', graphCacheDir, feeds);
  const cached: GraphColdStart[] = [];
  const exported: GraphColdStart[] = [];
  for (let i = 0; i < (quick ? 1 : 5); i++) {
    cached.push(await graphColdStart(spec, checkpointDir, 'checkpoint', graphCacheDir, feeds));
    exported.push(await graphColdStart(spec, exportDir, 'onnx', graphCacheDir, feeds));
  }
  if (first.builds === 0 || cached.some((run) => run.builds > 0)) {
    throw new Error(
      `${spec.suite}: the first load must build and the later ones must not (a build cache miss)`,
    );
  }
  const variant = (name: string, samples: GraphColdStart[]) =>
    samplesResult(
      name,
      samples.map((s) => s.ms),
    );
  const cachedMs = median(cached.map((s) => s.ms));
  const exportedMs = median(exported.map((s) => s.ms));
  return {
    suite: spec.suite,
    case: `${spec.label}: cold start (fresh process: fromPretrained + first run), cached build vs exported graph`,
    iterations: cached.length,
    variants: [variant(FROM_CACHED_BUILD, cached), variant(FROM_EXPORT, exported)],
    peakRssMiB: peakRssMiB(),
    ratios: {
      'cached build / exported cold start (goal <= 1.1)': round(ratio(cachedMs, exportedMs)),
      'first load ms (builds the graph into the cache)': round(first.ms),
      'first load peak RSS MiB (own process)': first.peakRssMiB,
      'cached build cold start peak RSS MiB (median)': round(median(cached.map((s) => s.peakRssMiB))),
      'exported cold start peak RSS MiB (median)': round(median(exported.map((s) => s.peakRssMiB))),
    },
    notes: [
      'each sample is its own node process, timed from fromPretrained to the first result (imports excluded); the cached build hashes nothing (the checkpoint’s sha256 is remembered by path, size and mtime)',
    ],
  };
}

/** Nodes of each graph file and of ONNX Runtime's optimized graph (saved at `optimizedPath(g)`), by graph name. */
async function nodeCounts(
  graphs: readonly (readonly [string, string])[],
  optimizedPath: (g: number) => string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const [g, [name, path]] of graphs.entries()) {
    counts[`nodes, ${name}`] = (await readOnnxModel(path)).nodes.length;
    counts[`nodes after ONNX Runtime's optimizations, ${name}`] = (
      await readOnnxModel(optimizedPath(g))
    ).nodes.length;
  }
  return counts;
}

/** Worst |difference| over the largest |value| of each output of two sessions on the same feeds (q8 vs fp32). */
async function outputDifference(
  reference: ort.InferenceSession,
  other: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
): Promise<Record<string, number>> {
  const [expected, actual] = [await reference.run(feeds), await other.run(feeds)];
  return Object.fromEntries(
    Object.entries(expected).map(([name, tensor]) => [
      name,
      differenceRelativeToLargest(actual[name]!.data as Float32Array, tensor.data as Float32Array),
    ]),
  );
}

/** The variants of `builtGraphSuite`. */
export const EXPORTED_GRAPH = 'exported graph (torch.onnx.export, structure-only)';
export const BUILT_FP32 = 'built from checkpoint, fp32';
export const BUILT_Q8 = 'built from checkpoint, q8';

export interface BuiltGraphSuite {
  suite: string;
  /** The model's name in the table, e.g. 'LeViT-256'. */
  label: string;
  /** A bench model with `weights-shapes.json` and the exported graphs under `onnx/`. */
  hubId: string;
  /** The package and class the graph is built for (`'levit'`, `'LevitForImageClassificationWithTeacher'`). */
  packageName: string;
  className: string;
  /** The checkpoint file the Hub repository holds: facebook/levit-* have only pytorch_model.bin. */
  checkpoint: 'model.safetensors' | 'pytorch_model.bin';
  /**
   * The built graphs to time, each against the exported graph of the same file name (`onnx/<graph>.onnx`); default
   * `['model']`.
   */
  graphs?: readonly string[];
  /**
   * The inputs, the same for every variant (each graph takes those it declares): a record, or made from the built
   * fp32 graphs (a head's inputs are its tower's outputs); default pixel_values [1, 3, 224, 224] (a fixed pattern).
   */
  feeds?:
    | Record<string, ort.Tensor>
    | ((builtFp32: (graph: string) => string) => Promise<Record<string, ort.Tensor>>);
  /** A second or more per run: one warm-up and 10 runs instead of 2 and 20. */
  slow?: boolean;
  /** The goal for q8 / built fp32, when the issue states one. */
  q8Goal?: number;
  /** The goal for built fp32 / exported session.run; default 1.02. */
  fp32Goal?: number;
  /** Goals for session creation of the built fp32 graph, when the issue states them: at most `maxMs`, and at least
   * `minSpeedup` times faster than the exported graph's. */
  createGoal?: { maxMs: number; minSpeedup: number };
  /**
   * Also count nodes before and after ONNX Runtime's optimizations: the last session of each graph saves its optimized
   * graph (optimizedModelFilePath), so that creation includes writing it.
   */
  nodeCounts?: boolean;
  /** What the first result's notes add. */
  notes?: readonly string[];
  /** Whether to measure the load path's cold start (`cachedBuildColdStart`); default true. */
  coldStart?: boolean;
  /**
   * Further results from the built model folder (config, processor and tokenizer files, the checkpoint and `onnx/`
   * with both dtypes' graphs), before it is removed: the package's own API on graphs built from the checkpoint.
   */
  more?: (folder: string, quick: boolean) => Promise<SuiteResult[]>;
}

/**
 * Graphs built from a random full-size checkpoint (`benchWeights`) against the graphs torch exported, side by side:
 * per graph, session.run medians of the exported graph, the built fp32 graph and the built q8 graph, interleaved on
 * the same ready tensors (goal: built fp32 <= 1.02x exported, or `fp32Goal`), session creation (median of 3, 1 in
 * quick mode), with `nodeCounts` node counts before and after ONNX Runtime's optimizations, and how far q8's outputs
 * are from fp32's (worst difference over the largest value, on random weights: a sanity figure, not an accuracy
 * measure); the build (time and peak RSS, each dtype in a process of its own) with the first graph's result; then
 * the load path's cold start from the build cache against the exported folder (`cachedBuildColdStart`), on the
 * class's first graph.
 */
export async function builtGraphSuite(spec: BuiltGraphSuite, quick: boolean): Promise<SuiteResult[]> {
  const model = benchModel(spec.hubId);
  const dir = await mkdtemp(join(tmpdir(), `ortvision-bench-${spec.suite}-`));
  try {
    const checkpointPath = join(dir, spec.checkpoint);
    const weights = benchWeights(await readWeightsShapes(join(model, 'weights-shapes.json')));
    if (spec.checkpoint === 'model.safetensors') await writeSafetensors(checkpointPath, weights);
    else await writeTorchCheckpoint(checkpointPath, weights);
    const checkpointMB = (await stat(checkpointPath)).size / 1e6;
    // The model folder as the Hub repository has it, so that `more` can load it with the package's classes.
    for (const file of await readdir(model)) {
      if (/\.(json|txt|model)$/.test(file) && file !== 'weights-shapes.json') {
        await copyFile(join(model, file), join(dir, file));
      }
    }
    const builds: Partial<Record<GraphDtype, GraphBuildRun>> = {};
    for (const dtype of ['fp32', 'q8'] as const) {
      builds[dtype] = await buildInChild(spec.packageName, spec.className, dir, dtype, join(dir, 'onnx'));
    }
    const built = (dtype: GraphDtype, graph: string): string => {
      const path = builds[dtype]!.paths.find((p) => basename(p) === graphFileName(graph, dtype));
      if (!path)
        throw new Error(`${spec.className} built no ${graph} graph (${builds[dtype]!.paths.join(', ')})`);
      return path;
    };
    const feeds =
      typeof spec.feeds === 'function'
        ? await spec.feeds((graph) => built('fp32', graph))
        : (spec.feeds ?? {
            pixel_values: new ort.Tensor(
              'float32',
              new Float32Array(3 * 224 * 224).map((_, i) => Math.sin(i)),
              [1, 3, 224, 224],
            ),
          });
    const names = spec.graphs ?? ['model'];
    const results: SuiteResult[] = [];
    for (const graph of names) {
      results.push(
        await compareBuiltGraph(spec, quick, dir, names.length === 1 ? '' : ` ${graph}.onnx`, feeds, [
          [EXPORTED_GRAPH, join(model, 'onnx', `${graph}.onnx`)],
          [BUILT_FP32, built('fp32', graph)],
          [BUILT_Q8, built('q8', graph)],
        ]),
      );
    }
    results[0]!.ratios = {
      ...results[0]!.ratios,
      [`build ms, fp32 (${round(checkpointMB)} MB ${spec.checkpoint})`]: round(builds.fp32!.ms),
      'build ms, q8': round(builds.q8!.ms),
      'build peak RSS MiB, fp32 (own process)': builds.fp32!.peakRssMiB,
      'build process baseline RSS MiB (before building)': builds.fp32!.baselineRssMiB,
      'build peak RSS MiB, q8 (own process)': builds.q8!.peakRssMiB,
    };
    results[0]!.notes!.push(...(spec.notes ?? []));
    if (spec.more) results.push(...(await spec.more(dir, quick)));
    if (spec.coldStart === false) return results;
    // The class's forward takes the first graph's inputs; the exported folder holds every graph the build wrote (as
    // `ortvision export` does), so that both folders offer the class the same graphs to load.
    const firstInputs = (await readOnnxModel(built('fp32', names[0]!))).inputs.map((input) => input.name);
    const firstFeeds = Object.fromEntries(firstInputs.map((name) => [name, feeds[name]!]));
    results.push(await cachedBuildColdStart(spec, dir, builds.fp32!.paths, firstFeeds, quick));
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One graph of `builtGraphSuite`: session creation and session.run of the exported, fp32 and q8 graphs. */
async function compareBuiltGraph(
  spec: BuiltGraphSuite,
  quick: boolean,
  dir: string,
  which: string,
  feeds: Record<string, ort.Tensor>,
  graphs: readonly (readonly [name: string, path: string])[],
): Promise<SuiteResult> {
  const sessions: ort.InferenceSession[] = [];
  try {
    // Session creation, interleaved; the last session of each graph is kept for the run comparison.
    const createMs: number[][] = graphs.map(() => []);
    const creations = quick ? 1 : 3;
    const optimizedPath = (g: number) => join(dir, `optimized-${g}.onnx`);
    for (let i = 0; i < creations; i++) {
      for (const [g, [, path]] of graphs.entries()) {
        const start = performance.now();
        const keep = i === creations - 1;
        const session = await ort.InferenceSession.create(
          path,
          spec.nodeCounts && keep
            ? { ...sessionOptions, optimizedModelFilePath: optimizedPath(g) }
            : sessionOptions,
        );
        createMs[g]!.push(performance.now() - start);
        if (keep) sessions.push(session);
        else await session.release();
      }
    }
    const ownFeeds = (session: ort.InferenceSession) =>
      Object.fromEntries(session.inputNames.map((input) => [input, feeds[input]!]));
    const variants = graphs.map(([name], g) => {
      const own = ownFeeds(sessions[g]!);
      return { name, run: () => sessions[g]!.run(own) };
    });
    const result = await compare(
      spec.suite,
      `${spec.label}${which} session.run: built vs exported graph`,
      variants,
      spec.slow
        ? benchOptions(quick, { slow: true })
        : { ...benchOptions(quick), ...(quick ? {} : { iterations: 20 }) },
    );
    const fp32 = medianOf(result, BUILT_FP32);
    const createMedians = createMs.map((ms) => median(ms));
    const q8Difference = await outputDifference(sessions[1]!, sessions[2]!, ownFeeds(sessions[1]!));
    result.ratios = {
      [`built fp32 / exported (goal <= ${spec.fp32Goal ?? 1.02})`]: round(
        ratio(fp32, medianOf(result, EXPORTED_GRAPH)),
      ),
      [`q8 / built fp32${spec.q8Goal === undefined ? '' : ` (goal <= ${spec.q8Goal})`}`]: round(
        ratio(medianOf(result, BUILT_Q8), fp32),
      ),
      ...Object.fromEntries(
        graphs.map(([name], g) => [
          `session create ms, ${name} (median)${g === 1 && spec.createGoal ? ` (goal <= ${spec.createGoal.maxMs})` : ''}`,
          round(createMedians[g]!),
        ]),
      ),
      ...(spec.createGoal
        ? {
            [`exported / built fp32 session create (goal >= ${spec.createGoal.minSpeedup})`]: round(
              ratio(createMedians[0]!, createMedians[1]!),
            ),
          }
        : {}),
      ...(spec.nodeCounts ? await nodeCounts(graphs, optimizedPath) : {}),
      ...Object.fromEntries(
        Object.entries(q8Difference).map(([output, value]) => [
          `q8 vs fp32 worst |diff| / largest |value|, ${output}`,
          round(value),
        ]),
      ),
    };
    result.notes = [
      'weights from weights-shapes.json (benchWeights); the exported graph regenerates its weights at session creation, so its creation time is not a real export’s; its session.run is',
    ];
    return result;
  } finally {
    for (const session of sessions) await session.release();
  }
}
