import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { GraphDtype } from '@ortvision/core';
import { readWeightsShapes, writeRandomCheckpoint } from '@ortvision/core/testing';
import * as ort from 'onnxruntime-node';
import { benchModel, sessionOptions } from './common.js';
import { type BenchOptions, type SuiteResult, compare, medianOf, ratio, round } from './harness.js';

// What the graph suites share (vit-graph, clipseg-graph, owlv2-graph, altclip-graph): a random full-size checkpoint
// from the bench model's weights-shapes.json, the graphs built from it in a child process (build time and peak RSS
// are the build's own), and session.run of the built graphs interleaved with the exported bench graph.

const here = dirname(fileURLToPath(import.meta.url));
const execFileAsync = promisify(execFile);

/** A random checkpoint written for a bench model. */
export interface RandomCheckpoint {
  /** The folder holding it (what `openCheckpoint` takes). */
  readonly folder: string;
  readonly bytes: number;
  readonly writeMs: number;
}

/**
 * Writes a random checkpoint with every tensor of the bench model's `weights-shapes.json` (the keys and shapes
 * transformers' save_pretrained writes for it) into `folder`, as the Hub repository holds it: `model.safetensors`
 * or `pytorch_model.bin` (a torch.save zip). Written one weight at a time; timing does not depend on the values.
 */
export async function writeRandomBenchCheckpoint(
  hubId: string,
  folder: string,
  format: 'safetensors' | 'pytorch',
): Promise<RandomCheckpoint> {
  const file = join(folder, format === 'safetensors' ? 'model.safetensors' : 'pytorch_model.bin');
  const shapes = await readWeightsShapes(join(benchModel(hubId), 'weights-shapes.json'));
  const start = performance.now();
  await writeRandomCheckpoint(file, shapes, { format, seed: 0 });
  return { folder, bytes: (await stat(file)).size, writeMs: performance.now() - start };
}

/** One build of a class's graphs, as `graph-build-child.ts` reports it. */
export interface GraphBuild {
  readonly dtype: GraphDtype;
  /** Describing every graph (reading the checkpoint's index), ms. */
  readonly describeMs: number;
  /** Writing every graph (reading, transforming and writing each weight), ms. */
  readonly writeMs: number;
  /** The child's RSS before the build, and its peak, MiB. */
  readonly baselineRssMiB: number;
  readonly peakRssMiB: number;
  /** Graph key -> written file. */
  readonly graphs: Readonly<Record<string, string>>;
  /** Bytes written (graph files and external data). */
  readonly bytes: number;
}

/**
 * Builds every graph of `className` (a class `graph-build-child.ts` knows) from the checkpoint in `checkpointFolder`
 * with the bench model's config, into `outDir`, in a fresh node process.
 */
export async function buildGraphsInChild(
  className: string,
  hubId: string,
  checkpointFolder: string,
  dtype: GraphDtype,
  outDir: string,
): Promise<GraphBuild> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      '--conditions=@ortvision/source',
      '--import',
      'tsx',
      join(here, 'graph-build-child.ts'),
      className,
      benchModel(hubId),
      checkpointFolder,
      dtype,
      outDir,
    ],
    { cwd: here, maxBuffer: 1 << 20 },
  );
  return { dtype, ...JSON.parse(stdout.trim().split('\n').at(-1)!) } as GraphBuild;
}

/** A build's figures for a result's ratios, labelled by dtype. */
function buildFigures(build: GraphBuild): Record<string, number> {
  return {
    [`build ${build.dtype}: describe ms`]: round(build.describeMs),
    [`build ${build.dtype}: write ms`]: round(build.writeMs),
    [`build ${build.dtype}: MB written`]: round(build.bytes / 1e6),
    [`build ${build.dtype}: peak RSS MiB (child process; baseline ${round(build.baselineRssMiB)})`]: round(
      build.peakRssMiB,
    ),
  };
}

/** Adds the random checkpoint's size and write time and each build's figures to a result's ratios. */
export function addBuildFigures(
  result: SuiteResult,
  checkpoint: RandomCheckpoint,
  builds: readonly GraphBuild[],
): SuiteResult {
  result.ratios = {
    ...result.ratios,
    [`random checkpoint: MB (${Math.round(checkpoint.writeMs)} ms to write)`]: Math.round(
      checkpoint.bytes / 1e6,
    ),
    ...Object.assign({}, ...builds.map(buildFigures)),
  };
  return result;
}

/** A graph to time, and how long creating its session took. */
export interface TimedSession {
  readonly name: string;
  readonly session: ort.InferenceSession;
  readonly createMs: number;
}

/** Creates a session with the bench's options, timing it. */
export async function createTimedSession(name: string, path: string): Promise<TimedSession> {
  const start = performance.now();
  const session = await ort.InferenceSession.create(path, sessionOptions);
  return { name, session, createMs: performance.now() - start };
}

export const EXPORTED = 'exported graph (torch.onnx.export, structure-only)';
export const BUILT = 'built from checkpoint, fp32';
export const QUANTIZED = 'built from checkpoint, q8';

/**
 * session.run of the exported graph, the fp32 build and the q8 build, interleaved on the same feeds (each session
 * takes the feeds it declares), with the goals' ratios and each session's creation time. The sessions are
 * released afterwards.
 */
export async function compareWithExported(
  suite: string,
  caseName: string,
  graphs: { exported: string; fp32: string; q8: string },
  feeds: Readonly<Record<string, ort.Tensor>>,
  options: BenchOptions,
): Promise<SuiteResult> {
  const sessions: TimedSession[] = [];
  try {
    for (const [name, path] of [
      [EXPORTED, graphs.exported],
      [BUILT, graphs.fp32],
      [QUANTIZED, graphs.q8],
    ] as const) {
      sessions.push(await createTimedSession(name, path));
    }
    const variants = sessions.map(({ name, session }) => {
      const own = Object.fromEntries(session.inputNames.map((input) => [input, feeds[input]!]));
      return { name, run: () => session.run(own) };
    });
    const result = await compare(suite, caseName, variants, options);
    result.ratios = {
      'built fp32 / exported (goal <= 1.02)': round(
        ratio(medianOf(result, BUILT), medianOf(result, EXPORTED)),
      ),
      'q8 / built fp32': round(ratio(medianOf(result, QUANTIZED), medianOf(result, BUILT))),
      ...Object.fromEntries(sessions.map((s) => [`session creation ms, ${s.name}`, round(s.createMs)])),
    };
    result.notes = [
      'random weights from weights-shapes.json; the exported graph regenerates its weights at session creation (its creation time is not comparable), its session.run is the real export’s',
    ];
    return result;
  } finally {
    for (const { session } of sessions) await session.release();
  }
}
