import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { abortable } from '../abort.js';
import { InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { openModelRepo } from '../hub/model-repo.js';
import { RESOLVE_OPTIONS, type ResolveOptions } from '../hub/resolve.js';
import type { CheckpointGraphsClass } from '../modeling/build-checkpoint-graphs.js';
import type { ConfigClass, PretrainedConfig } from '../modeling/config.js';
import {
  type GraphSource,
  type LoadProgress,
  ModelGraphs,
  checkGraphSource,
} from '../modeling/model-graphs.js';
import { type ModelDtype, graphFileName, isModelDtype } from '../runtime/model-file.js';
import { describeValue } from '../validation/describe-value.js';
import { checkOptions, optionNames, pickOptions } from '../validation/option-names.js';

export interface ExportModelOptions extends ResolveOptions {
  /** The folder to write: it must not exist yet, or be empty. */
  out: string;
  /** The variant to write (default 'fp32'): `model.onnx`, `model_fp16.onnx` or `model_quantized.onnx`. */
  dtype?: ModelDtype;
  /** Where the graphs come from, as for `fromPretrained` (default 'auto'). */
  graphSource?: GraphSource;
  /** The build cache (default `defaultGraphCacheDir()`). */
  graphCacheDir?: string;
  /** Downloads and graph builds, as `fromPretrained` reports them. */
  onProgress?: (progress: LoadProgress) => void;
}

const EXPORT_OPTIONS = [
  ...RESOLVE_OPTIONS,
  ...optionNames<Omit<ExportModelOptions, keyof ResolveOptions>>({
    out: true,
    dtype: true,
    graphSource: true,
    graphCacheDir: true,
  }),
];

/** What `exportModel` wrote. */
export interface ExportedModel {
  /** The folder written. */
  readonly out: string;
  /** Graph key -> the graph file written, relative to `out` (`onnx/model_quantized.onnx`). */
  readonly graphs: Readonly<Record<string, string>>;
  /** How each graph was obtained: 'checkpoint' (built) or 'onnx' (copied from an exported graph). */
  readonly sources: Readonly<Record<string, 'checkpoint' | 'onnx'>>;
  /** Every file written, relative to `out`, sorted. */
  readonly files: readonly string[];
}

/** What `exportModel` needs of a model class (any class of a model package): its config class and graphs. */
export interface ExportableModelClass extends CheckpointGraphsClass<never> {
  readonly configClass: ConfigClass;
}

/**
 * Config, processor and tokenizer files a model folder holds at its top level (`config.json`,
 * `preprocessor_config.json`, `tokenizer.json`, `vocab.txt`, `sentencepiece.bpe.model`...), not checkpoint indexes.
 */
function isSideFile(file: string): boolean {
  return /^[^/]+\.(json|txt|model)$/.test(file) && !file.endsWith('.index.json');
}

function checkOut(out: unknown): string {
  if (typeof out !== 'string' || out === '') {
    throw new InvalidArgumentError(`exportModel: out must be a folder path, got ${describeValue(out)}`);
  }
  const path = resolve(out);
  if (existsSync(path) && (!statSync(path).isDirectory() || readdirSync(path).length > 0)) {
    throw new InvalidArgumentError(
      `exportModel: ${out} already exists${statSync(path).isDirectory() ? ' and is not empty' : ' as a file'}; give a new or empty folder`,
    );
  }
  return path;
}

/**
 * Writes a model's graphs in the Hub's ONNX layout (`onnx/model.onnx` + `onnx/model.onnx_data`, `_fp16` and
 * `_quantized` names, split graphs by their names) with its config, processor and tokenizer files, into `out`: a
 * folder that loads with `graphSource: 'onnx'` (and in transformers.js-style tools), to inspect, pin or publish.
 * The graphs come as `fromPretrained` would take them (`graphSource`): built from the checkpoint through the
 * build cache, or copied from exported ones. Every graph of the class that the folder or repository can give is
 * written. The folder is written beside `out` and renamed when complete: a failed export leaves nothing.
 *
 * @example
 * ```ts
 * import { exportModel } from '@ortvision/core';
 * import { LevitForImageClassificationWithTeacher } from '@ortvision/levit';
 * const exported = await exportModel(LevitForImageClassificationWithTeacher, 'facebook/levit-256', {
 *   out: './levit-256-onnx',
 *   dtype: 'q8',
 * });
 * exported.graphs; // { model: 'onnx/model_quantized.onnx' }
 * ```
 */
export async function exportModel(
  modelClass: ExportableModelClass,
  idOrPath: string,
  options: ExportModelOptions,
): Promise<ExportedModel> {
  checkOptions(options, EXPORT_OPTIONS, 'exportModel');
  const out = checkOut(options.out);
  const dtype = options.dtype ?? 'fp32';
  if (!isModelDtype(dtype)) {
    throw new InvalidArgumentError(
      `exportModel: dtype must be 'fp32', 'fp16' or 'q8', got ${describeValue(options.dtype)}`,
    );
  }
  const graphSource = checkGraphSource(options.graphSource, 'exportModel');
  const operation = `exportModel(${modelClass.name}, ${JSON.stringify(idOrPath)})`;
  const resolveOptions = pickOptions<ResolveOptions>(options, RESOLVE_OPTIONS);
  const repo = await abortable(options.signal, operation, () => openModelRepo(idOrPath, resolveOptions));
  const configClass = modelClass.configClass as unknown as typeof PretrainedConfig;
  const config = await abortable(options.signal, operation, () =>
    configClass.fromPretrained.call(configClass, idOrPath, { ...resolveOptions, repo }),
  );
  const graphs = new ModelGraphs(modelClass, repo, config, {
    dtype,
    graphSource,
    graphCacheDir: options.graphCacheDir,
    onProgress: options.onProgress,
  });
  const keys = Object.keys(modelClass.graphs);
  const present = keys.filter((graph) => graphs.has(graph));
  if (present.length === 0) {
    const route = graphs.route(keys[0]!);
    throw new ModelNotFoundError(
      `${operation}: no graph of ${modelClass.name} can be written: ${route.kind === 'absent' ? route.reason : ''}`,
    );
  }
  const temporary = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.incomplete`;
  await mkdir(join(temporary, 'onnx'), { recursive: true });
  try {
    const written: Record<string, string> = {};
    const sources: Record<string, 'checkpoint' | 'onnx'> = {};
    for (const graph of present) {
      let path: string;
      try {
        path = await abortable(options.signal, operation, () => graphs.file(graph, options.signal));
      } catch (error) {
        // A graph this checkpoint lacks the weights for (`CheckpointGraphs.optionalGraphs`) is not exported.
        const optional = modelClass.checkpointGraphs?.optionalGraphs?.[graph] !== undefined;
        if (error instanceof ModelNotFoundError && optional && graphs.route(graph).kind === 'checkpoint')
          continue;
        throw error;
      }
      const name = graphFileName(modelClass.graphs[graph]!, dtype);
      // The graph names its external data by file name: it and its data files keep their names, beside it.
      for (const file of await readdir(dirname(path))) {
        if (file === basename(path) || file.startsWith(`${basename(path)}_data`)) {
          await copyFile(join(dirname(path), file), join(temporary, 'onnx', file));
        }
      }
      written[graph] = `onnx/${name}`;
      sources[graph] = graphs.route(graph).kind as 'checkpoint' | 'onnx';
    }
    for (const file of repo.files.filter(isSideFile)) {
      await copyFile(await repo.file(file), join(temporary, file));
    }
    if (existsSync(out)) await rmdir(out);
    await rename(temporary, out);
    const files = [
      ...(await readdir(out)).filter((file) => file !== 'onnx'),
      ...(await readdir(join(out, 'onnx'))).map((file) => `onnx/${file}`),
    ].sort();
    return { out, graphs: written, sources, files };
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}
