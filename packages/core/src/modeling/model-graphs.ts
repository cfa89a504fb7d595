import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '../abort.js';
import {
  type CheckpointFileChoice,
  openCheckpoint,
  selectCheckpointFile,
} from '../checkpoint/open-checkpoint.js';
import { readShardedIndex } from '../checkpoint/sharded.js';
import { CheckpointError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { type ModelRepo, describeFolder, externalDataFiles, summarizeFiles } from '../hub/model-repo.js';
import type { DownloadProgress } from '../hub/transfer.js';
import { GRAPH_FORMAT_VERSION } from '../onnx/model-graph.js';
import { type ModelDtype, graphFileCandidates, graphFileName, isModelDtype } from '../runtime/model-file.js';
import { describeValue } from '../validation/describe-value.js';
import {
  type CheckpointGraphsClass,
  describeCheckpointGraphs,
  writeDescribedGraph,
} from './build-checkpoint-graphs.js';
import type { PretrainedConfig } from './config.js';
import {
  type CheckpointFileIdentity,
  type GraphBuildKey,
  GraphCache,
  defaultGraphCacheDir,
  localFileSha256,
} from './graph-cache.js';

/**
 * Where a model's ONNX graphs come from: 'auto' (default) takes a graph from `onnx/` (or the repository root) when
 * the folder or repository has it for the requested dtype and otherwise builds it from the checkpoint, when the
 * class can; 'onnx' only takes exported graphs; 'checkpoint' always builds (ignoring `onnx/`).
 */
export type GraphSource = 'auto' | 'onnx' | 'checkpoint';

export const GRAPH_SOURCES: readonly GraphSource[] = ['auto', 'onnx', 'checkpoint'];

/** The `graphSource` option checked: one of `GRAPH_SOURCES`, or undefined for the default. */
export function checkGraphSource(value: unknown, where: string): GraphSource | undefined {
  if (value === undefined || GRAPH_SOURCES.includes(value as GraphSource)) return value as GraphSource;
  throw new InvalidArgumentError(
    `${where}: graphSource must be 'auto', 'onnx' or 'checkpoint', got ${describeValue(value)}`,
  );
}

/** One step of building a graph from a checkpoint: which graph, and how much of its weights are written. */
export interface GraphBuildProgress {
  readonly kind: 'build';
  /** The graph file being built, named as in the Hub's ONNX layout (`onnx/model_quantized.onnx`). */
  readonly file: string;
  /** The model class and its graph key (`model`, `text_model`, ...). */
  readonly modelClass: string;
  readonly graph: string;
  readonly dtype: ModelDtype;
  /** Weight bytes written so far, out of `total`. */
  readonly loaded: number;
  readonly total: number;
  /** Weights (initializers) written so far, out of `weightCount`. */
  readonly weights: number;
  readonly weightCount: number;
}

/** What `onProgress` gets while a model loads: file downloads, and graph builds (`kind: 'build'`). */
export type LoadProgress = DownloadProgress | GraphBuildProgress;

/** How one graph of a load is obtained, decided once when the model is opened. */
export type GraphRoute =
  /** An exported graph: `file` in the folder or repository, and its external data files beside it. */
  | { readonly kind: 'onnx'; readonly file: string; readonly dataFiles: readonly string[] }
  /** Built from `checkpoint` (cached); `file` is the graph's name in the Hub's ONNX layout. */
  | { readonly kind: 'checkpoint'; readonly file: string; readonly checkpoint: CheckpointFileChoice }
  /** Neither: `reason` says what the folder has and what would do. */
  | { readonly kind: 'absent'; readonly reason: string };

export interface ModelGraphsOptions {
  /** Which variant, for every graph or per graph key (default 'fp32'). */
  dtype?: ModelDtype | Readonly<Record<string, ModelDtype>>;
  graphSource?: GraphSource;
  /** Where built graphs are cached (default `defaultGraphCacheDir()`). */
  graphCacheDir?: string;
  /** Graph build events (downloads report through the repository's own `onProgress`). */
  onProgress?: (progress: LoadProgress) => void;
}

/** The checkpoint files `selectCheckpointFile` looks for, for messages. */
const CHECKPOINT_NAMES = 'model.safetensors or pytorch_model.bin, sharded or not';

function dtypeFor(dtype: ModelGraphsOptions['dtype'], graph: string): ModelDtype {
  const chosen = typeof dtype === 'object' && dtype !== null ? (dtype[graph] ?? 'fp32') : (dtype ?? 'fp32');
  if (!isModelDtype(chosen)) {
    throw new InvalidArgumentError(
      `unknown dtype ${JSON.stringify(chosen)} for graph '${graph}' (expected 'fp32', 'fp16' or 'q8')`,
    );
  }
  return chosen;
}

/** What a folder or repository holds, for messages. */
function listing(repo: ModelRepo): string {
  return repo.source === 'local' ? describeFolder(repo.idOrPath) : summarizeFiles(repo.files);
}

/**
 * The graphs of one model load: for each graph key of the class, where its ONNX file comes from (an exported graph
 * of the folder or repository, or a build from its checkpoint), decided once, from the file list, when it is
 * opened; `file(graph)` then downloads or builds only what that route needs. Building goes through the build
 * cache (`GraphCache`): a graph built once is found again by every later load of the same checkpoint, config,
 * dtype and builder version, offline included.
 *
 * @example
 * const repo = await openModelRepo('facebook/levit-256');
 * const config = await LevitConfig.fromPretrained('facebook/levit-256', { repo });
 * const graphs = new ModelGraphs(LevitForImageClassificationWithTeacher, repo, config, { dtype: 'q8' });
 * graphs.route('model'); // { kind: 'checkpoint', file: 'onnx/model_quantized.onnx', checkpoint: { file: 'pytorch_model.bin', ... } }
 * const path = await graphs.file('model'); // built once, then taken from the cache
 */
export class ModelGraphs {
  readonly repo: ModelRepo;
  readonly #modelClass: CheckpointGraphsClass<never>;
  readonly #config: PretrainedConfig;
  readonly #options: ModelGraphsOptions;
  readonly #routes = new Map<string, GraphRoute>();
  readonly #dtypes = new Map<string, ModelDtype>();

  constructor(
    modelClass: CheckpointGraphsClass<never>,
    repo: ModelRepo,
    config: PretrainedConfig,
    options: ModelGraphsOptions = {},
  ) {
    this.repo = repo;
    this.#modelClass = modelClass;
    this.#config = config;
    this.#options = options;
    const source = checkGraphSource(options.graphSource, `${modelClass.name}'s graphs`) ?? 'auto';
    const checkpoint = source === 'onnx' ? undefined : selectCheckpointFile(repo.files);
    for (const graph of Object.keys(modelClass.graphs)) {
      const dtype = dtypeFor(options.dtype, graph);
      this.#dtypes.set(graph, dtype);
      this.#routes.set(graph, this.#decide(graph, dtype, source, checkpoint));
    }
  }

  #decide(
    graph: string,
    dtype: ModelDtype,
    source: GraphSource,
    checkpoint: CheckpointFileChoice | undefined,
  ): GraphRoute {
    const { repo } = this;
    const name = this.#modelClass.graphs[graph]!;
    const candidates = graphFileCandidates(name, dtype);
    const file = `onnx/${graphFileName(name, dtype)}`;
    if (source !== 'checkpoint') {
      const found = candidates.find((candidate) => repo.has(candidate));
      if (found !== undefined)
        return { kind: 'onnx', file: found, dataFiles: externalDataFiles(repo, found) };
    }
    const buildable = this.#modelClass.checkpointGraphs?.graphs[graph] !== undefined;
    if (source !== 'onnx' && buildable && checkpoint) return { kind: 'checkpoint', file, checkpoint };
    const where = repo.idOrPath;
    if (source === 'checkpoint') {
      return {
        kind: 'absent',
        reason: buildable
          ? `${where} has no checkpoint (${CHECKPOINT_NAMES}) to build ${file} from (it has: ${listing(repo)})`
          : `${this.#modelClass.name} cannot build its graph '${graph}' (${file}) from a checkpoint: it runs exported ONNX graphs only (graphSource 'auto' or 'onnx' takes them from onnx/)`,
      };
    }
    if (source === 'auto' && buildable) {
      return {
        kind: 'absent',
        reason: `${where} has neither ${candidates.join(' nor ')} nor a checkpoint (${CHECKPOINT_NAMES}) to build it from (it has: ${listing(repo)})`,
      };
    }
    const hint =
      buildable && selectCheckpointFile(repo.files)
        ? `; it has a checkpoint: graphSource 'auto' or 'checkpoint' builds ${file} from it`
        : '';
    return {
      kind: 'absent',
      reason: `${where} has none of ${candidates.join(', ')} (it has: ${listing(repo)})${hint}`,
    };
  }

  /** How `graph` is obtained in this load; `InvalidArgumentError` for a graph the class does not have. */
  route(graph: string): GraphRoute {
    const route = this.#routes.get(graph);
    if (!route) {
      throw new InvalidArgumentError(
        `${this.#modelClass.name} has no graph '${graph}' (it has: ${Object.keys(this.#modelClass.graphs).join(', ')})`,
      );
    }
    return route;
  }

  /** Whether the load has a route to `graph` (an exported file, or a checkpoint to build it from): no I/O. */
  has(graph: string): boolean {
    return this.route(graph).kind !== 'absent';
  }

  /**
   * The local path of `graph`'s ONNX file: the exported one (downloaded with its external data when the
   * repository is on the Hub), or the one built from the checkpoint (from the build cache, built first when it is
   * not there). `signal` stops a download or a build between weights (`AbortedError`; nothing is cached).
   */
  async file(graph: string, signal?: AbortSignal): Promise<string> {
    const route = this.route(graph);
    if (route.kind === 'onnx') {
      for (const data of route.dataFiles) await this.repo.file(data);
      return this.repo.file(route.file);
    }
    if (route.kind === 'checkpoint') return this.#build(graph, route, signal);
    // Offline, a file the cache lacks may still exist on the Hub: say so, as the repository does.
    if (!this.repo.complete && (this.#options.graphSource ?? 'auto') !== 'checkpoint') {
      const name = this.#modelClass.graphs[graph]!;
      await this.repo.file(graphFileCandidates(name, this.#dtypes.get(graph))[0]!);
    }
    throw new ModelNotFoundError(route.reason);
  }

  /** The checkpoint's files in the repository: the one file, or the index and every shard it names. */
  async #checkpointFiles(checkpoint: CheckpointFileChoice): Promise<string[]> {
    const { repo } = this;
    if (!checkpoint.sharded) return [checkpoint.file];
    const index = await readShardedIndex(await repo.file(checkpoint.file));
    const folder = checkpoint.file.slice(0, checkpoint.file.lastIndexOf('/') + 1);
    const shards = index.shards.map((shard) => folder + shard);
    const missing = shards.filter((shard) => !repo.has(shard));
    if (missing.length > 0) {
      throw new CheckpointError(
        `${checkpoint.file} of ${repo.idOrPath} names the shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which ${repo.source === 'hub' ? 'the repository' : 'the folder'} does not have (it has: ${listing(repo)})`,
      );
    }
    return [checkpoint.file, ...shards];
  }

  /** What a checkpoint file is: its Hub etag when the Hub names it, else the sha256 of the local file (memoized). */
  async #identity(file: string, memoDir: string): Promise<CheckpointFileIdentity> {
    const etag = await this.repo.etag(file);
    if (etag !== undefined) return { file, sha: etag };
    const path = await this.repo.file(file);
    return { file, sha: await localFileSha256(path, await stat(path), memoDir) };
  }

  async #build(
    graph: string,
    route: Extract<GraphRoute, { kind: 'checkpoint' }>,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const modelClass = this.#modelClass;
    const spec = modelClass.checkpointGraphs!;
    const dtype = this.#dtypes.get(graph)!;
    const cache = new GraphCache(this.#options.graphCacheDir ?? defaultGraphCacheDir());
    const files = await this.#checkpointFiles(route.checkpoint);
    const checkpoint: CheckpointFileIdentity[] = [];
    for (const file of files) checkpoint.push(await this.#identity(file, join(cache.root, '.file-hashes')));
    const key: GraphBuildKey = {
      modelClass: modelClass.name,
      graph,
      dtype,
      builderVersion: spec.version,
      formatVersion: GRAPH_FORMAT_VERSION,
      config: this.#config.raw,
      checkpoint,
    };
    const fileName = graphFileName(modelClass.graphs[graph]!, dtype);
    const cached = cache.lookup(key, fileName);
    if (cached) return cached;
    // Only now the weights: a graph found in the cache needs none of them.
    const local: Record<string, string> = {};
    for (const file of files) local[file] = await this.repo.file(file);
    const operation = `building ${route.file} of ${this.repo.idOrPath} from ${route.checkpoint.file}`;
    throwIfAborted(signal, operation);
    return cache.store(key, fileName, async (dir) => {
      const opened = await openCheckpoint(local);
      let weights: { close(): Promise<void> } = opened;
      try {
        const described = describeCheckpointGraphs(modelClass, this.#config as never, opened, dtype);
        weights = described.weights;
        if (!described.graphs[graph]) {
          throw new ModelNotFoundError(
            `${route.checkpoint.file} of ${this.repo.idOrPath} cannot build ${route.file}: it has no weight '${spec.optionalGraphs?.[graph]}', which ${modelClass.name}'s graph '${graph}' needs (it builds: ${Object.keys(described.graphs).join(', ')})`,
          );
        }
        const { onProgress } = this.#options;
        await writeDescribedGraph(modelClass, described, graph, dir, {
          signal,
          onProgress: (progress) =>
            onProgress?.({
              kind: 'build',
              file: route.file,
              modelClass: modelClass.name,
              graph,
              dtype,
              loaded: progress.bytes,
              total: progress.totalBytes,
              weights: progress.weights,
              weightCount: progress.weightCount,
            }),
        });
      } finally {
        await weights.close();
      }
    });
  }
}
