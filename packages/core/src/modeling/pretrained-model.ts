import { abortable, currentAbortSignal, throwIfAborted } from '../abort.js';
import { DisposedError, InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { type ModelRepo, openModelRepo } from '../hub/model-repo.js';
import { RESOLVE_OPTIONS, type ResolveOptions, firstModelFile } from '../hub/resolve.js';
import { type Device, selectDevice } from '../runtime/device.js';
import { type ModelDtype, graphFileCandidates, isModelDtype } from '../runtime/model-file.js';
import { checkSessionOptions } from '../runtime/session-options.js';
import { ModelSession, type NamedTensors, type RunOptions } from '../runtime/session.js';
import { describeValue } from '../validation/describe-value.js';
import { checkOptions, pickOptions } from '../validation/option-names.js';
import type { CheckpointGraphs } from './checkpoint-graphs.js';
import { type ConfigClass, PretrainedConfig } from './config.js';
import { PRETRAINED_OPTIONS, type PretrainedOptions } from './pretrained-options.js';

export { PRETRAINED_OPTIONS, type PretrainedOptions };

/** What `fromPretrained` hands a model's constructor. */
export interface ModelInit {
  config: PretrainedConfig;
  /** The Hub id or folder the model was loaded from (task helpers load the matching processor from it). */
  nameOrPath: string;
  /** The files it was loaded from: the folder, or the Hub repository at one commit. */
  repo?: ModelRepo;
  device: Device;
  loadGraph: (graph: string) => Promise<ModelSession>;
}

export interface PreTrainedModelClass<M extends PreTrainedModel> {
  new (init: ModelInit): M;
  readonly configClass: ConfigClass;
  readonly graphs: Readonly<Record<string, string>>;
  readonly name: string;
}

function dtypeFor(dtype: PretrainedOptions['dtype'], graph: string): ModelDtype {
  const chosen = typeof dtype === 'object' && dtype !== null ? (dtype[graph] ?? 'fp32') : (dtype ?? 'fp32');
  if (!isModelDtype(chosen)) {
    throw new InvalidArgumentError(
      `unknown dtype ${JSON.stringify(chosen)} for graph '${graph}' (expected 'fp32', 'fp16' or 'q8')`,
    );
  }
  return chosen;
}

/**
 * The base of every model class: a config and the ONNX graphs that are the model. A subclass declares its graphs
 * by name (`{ model: 'model' }` -> `onnx/model.onnx`, `onnx/model_fp16.onnx`, `onnx/model_quantized.onnx`) and
 * its config class; `forward` runs the `model` graph.
 *
 * @example
 * class ViTForImageClassification extends PreTrainedModel<ViTConfig> {
 *   static override configClass = ViTConfig;
 * }
 * const model = await ViTForImageClassification.fromPretrained('google/vit-base-patch16-224', { device: 'auto' });
 * const { logits } = await model.forward({ pixel_values });
 * await model.dispose();
 */
export class PreTrainedModel<C extends PretrainedConfig = PretrainedConfig> {
  static readonly configClass: ConfigClass = PretrainedConfig;
  /** Graph key -> file name (without variant suffix and `.onnx`). */
  static readonly graphs: Readonly<Record<string, string>> = { model: 'model' };
  /**
   * Alternative sets of graphs that each suffice (e.g. `[['model'], ['text_model', 'vision_model']]`), in order of
   * preference: eager loading loads the first set the folder has completely and needs one; graphs outside it load
   * when first run (a folder with both a whole graph and split graphs does not hold the model twice in memory).
   * Undefined: every graph is needed.
   */
  static readonly graphGroups: readonly (readonly string[])[] | undefined = undefined;
  /**
   * How this class's graphs are built from a transformers checkpoint when the folder or repository has no ONNX
   * graph for the requested dtype; undefined: the class runs exported graphs only.
   */
  static readonly checkpointGraphs: CheckpointGraphs<never> | undefined = undefined;

  readonly config: C;
  /** The Hub id or folder this model was loaded from, like transformers' `config._name_or_path`. */
  readonly nameOrPath: string;
  /**
   * The files this model was loaded from (`repo.commit`: the Hub commit, like transformers' `config._commit_hash`).
   * Pass it as the `repo` option to load the processor or tokenizer from the same snapshot without asking the Hub.
   */
  readonly repo: ModelRepo | undefined;
  #device: Device;
  #loadGraph: (graph: string) => Promise<ModelSession>;
  #sessions = new Map<string, Promise<ModelSession>>();
  #present = new Map<string, Promise<boolean>>();
  #disposed = false;

  constructor(init: ModelInit) {
    this.config = init.config as C;
    this.nameOrPath = init.nameOrPath;
    this.repo = init.repo;
    this.#device = init.device;
    this.#loadGraph = init.loadGraph;
  }

  /**
   * Loads a model from a folder or a Hub id: config.json, then the graphs (eagerly unless `loading: 'lazy'`), all
   * from one snapshot (a Hub revision is resolved to one commit first, with the repository's file list).
   * `signal` stops the loading between files and graphs (`AbortedError`; what was loaded is released); it does not
   * apply to graphs loaded later, on first use.
   */
  static async fromPretrained<M extends PreTrainedModel>(
    this: PreTrainedModelClass<M>,
    idOrPath: string,
    options: PretrainedOptions = {},
  ): Promise<M> {
    const where = `${this.name}.fromPretrained`;
    checkOptions(options, PRETRAINED_OPTIONS, where);
    checkSessionOptions(options.sessionOptions);
    if (options.loading !== undefined && options.loading !== 'eager' && options.loading !== 'lazy') {
      throw new InvalidArgumentError(
        `loading must be 'eager' or 'lazy', got ${describeValue(options.loading)}`,
      );
    }
    const selection = selectDevice(options.device ?? 'cpu', { deviceId: options.deviceId });
    const operation = `${where}(${JSON.stringify(idOrPath)})`;
    const { signal } = options;
    const resolveOptions = pickOptions<ResolveOptions>(options, RESOLVE_OPTIONS);
    const repo = await abortable(signal, operation, () => openModelRepo(idOrPath, resolveOptions));
    const config = await abortable(signal, operation, () =>
      (this.configClass as unknown as typeof PretrainedConfig).fromPretrained.call(
        this.configClass,
        idOrPath,
        {
          ...resolveOptions,
          repo,
        },
      ),
    );
    const graphs = this.graphs;
    let model: M | undefined;
    let device = selection.device;
    // fromPretrained's signal covers the graphs it loads; a graph loaded later, on first use, follows the signal of
    // the task call that runs it (if any), not this one, which may have long expired.
    let loadSignal: AbortSignal | undefined = signal;
    const loadGraph = async (graph: string): Promise<ModelSession> => {
      const name = graphs[graph];
      if (name === undefined) {
        throw new InvalidArgumentError(
          `${this.name} has no graph '${graph}' (it has: ${Object.keys(graphs).join(', ')})`,
        );
      }
      const graphSignal = loadSignal ?? currentAbortSignal();
      // The file list answers which variant exists (no request per candidate); a folder is asked on disk.
      const path = await abortable(graphSignal, `${operation}: loading graph '${graph}'`, () =>
        firstModelFile(repo, graphFileCandidates(name, dtypeFor(options.dtype, graph))),
      );
      const session = await ModelSession.create(path, {
        // Once 'auto' fell back to the CPU, every further graph follows, so that one model runs on one device.
        device: options.device === 'auto' && device === 'cpu' ? 'cpu' : (options.device ?? 'cpu'),
        deviceId: options.deviceId,
        sessionOptions: options.sessionOptions,
      });
      device = session.device;
      if (model) model.#device = session.device;
      return session;
    };
    model = new this({ config, nameOrPath: idOrPath, repo, device, loadGraph });
    if ((options.loading ?? 'eager') === 'eager') {
      try {
        const groups = (this as unknown as typeof PreTrainedModel).graphGroups;
        if (groups === undefined) await Promise.all(Object.keys(graphs).map((graph) => model!.graph(graph)));
        else await model.#loadFirstCompleteGroup(groups, idOrPath);
        // Session creation cannot be interrupted: an abort during it takes effect here.
        throwIfAborted(signal, operation);
      } catch (error) {
        await model.dispose();
        throw error;
      }
    }
    loadSignal = undefined;
    return model;
  }

  /** Loads the first of `groups` the folder has completely; throws when none is complete. */
  async #loadFirstCompleteGroup(groups: readonly (readonly string[])[], idOrPath: string): Promise<void> {
    const found = new Set<string>();
    for (const group of groups) {
      const present = await Promise.all(group.map((graph) => this.hasGraph(graph)));
      for (const [i, graph] of group.entries()) if (present[i]) found.add(graph);
      if (present.every(Boolean)) return;
    }
    // The error lists every graph the folder has, including those no set names, to show what it holds instead.
    const graphs = (this.constructor as typeof PreTrainedModel).graphs;
    for (const graph of Object.keys(graphs))
      if (!found.has(graph) && (await this.hasGraph(graph))) found.add(graph);
    const file = (graph: string) => `onnx/${graphs[graph]}.onnx`;
    throw new ModelNotFoundError(
      `${idOrPath} lacks the ONNX graphs ${this.constructor.name} needs: ${groups.map((g) => g.map(file).join(' + ')).join(', or ')} (found: ${[...found].map(file).join(', ') || 'none'})`,
    );
  }

  /**
   * Whether the model's folder or Hub repository has a graph; loads it when it does. Absence is remembered, so a
   * Hub id is asked once; any other failure (a corrupt file, a bad device) is thrown.
   */
  hasGraph(graph: string): Promise<boolean> {
    let present = this.#present.get(graph);
    if (!present) {
      present = this.graph(graph).then(
        () => true,
        (error: unknown) => {
          if (error instanceof ModelNotFoundError) return false;
          this.#present.delete(graph);
          throw error;
        },
      );
      this.#present.set(graph, present);
    }
    return present;
  }

  /** Where the model runs: 'cpu' or 'cuda' (what 'auto' chose). */
  get device(): Device {
    return this.#device;
  }

  /** The session of one graph, loaded on first use. */
  graph(graph: string): Promise<ModelSession> {
    this.#checkLive();
    let session = this.#sessions.get(graph);
    if (!session) {
      session = this.#loadGraph(graph);
      this.#sessions.set(graph, session);
      // A failed load is not cached: the next call tries again.
      session.catch(() => this.#sessions.delete(graph));
    }
    return session;
  }

  /** Runs one graph on named tensors and returns its named outputs. */
  async runGraph(graph: string, inputs: NamedTensors, options?: RunOptions): Promise<NamedTensors> {
    const session = await this.graph(graph);
    this.#checkLive();
    return session.run(inputs, options);
  }

  /** Runs the `model` graph: inputs by the graph's input names, outputs named as in Python (`logits`, ...). */
  forward(inputs: NamedTensors, options?: RunOptions): Promise<NamedTensors> {
    return this.runGraph('model', inputs, options);
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Releases every loaded graph (after runs in flight); later calls throw `DisposedError`. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    const pending = [...this.#sessions.values()];
    this.#sessions.clear();
    const sessions = await Promise.allSettled(pending);
    await Promise.all(
      sessions.map((result) => (result.status === 'fulfilled' ? result.value.dispose() : undefined)),
    );
  }

  #checkLive(): void {
    if (this.#disposed) {
      throw new DisposedError(
        `this ${this.constructor.name} was disposed; load it again with fromPretrained`,
      );
    }
  }
}
