import type { WeightInfo } from '../checkpoint/checkpoint.js';
import { InvalidArgumentError } from '../errors.js';
import type { Attributes, ConstantTensor, GraphBuilder, InitializerArray, Value } from './graph.js';
import type { OnnxDataType } from './onnx-proto.js';
import type { GraphWeights } from './weights.js';

/**
 * How the weights of a built graph are stored and computed:
 * - 'fp32': as the checkpoint has them (float16/bfloat16 checkpoints widened), float32 compute;
 * - 'fp16': large weights stored as float16 (half the file), widened to float32 by a Cast that ONNX Runtime folds
 *   when the session starts: float32 compute, float32 memory at run time;
 * - 'q8': linear layers' weights int8 (per output channel, symmetric) with activations quantized on the fly.
 */
export type GraphDtype = 'fp32' | 'fp16' | 'q8';

export const GRAPH_DTYPES: readonly GraphDtype[] = ['fp32', 'fp16', 'q8'];

/** One initializer of a group that is computed together (a quantized weight and its scales). */
export interface DerivedSpec {
  readonly suffix: string;
  readonly dtype: OnnxDataType;
  readonly dims: readonly number[];
}

interface BuildContext {
  readonly graph: GraphBuilder;
  readonly weights: GraphWeights;
  readonly dtype: GraphDtype;
  /** Initializers already made from checkpoint keys, by initializer name, so a tied weight is written once. */
  readonly params: Map<string, Value>;
}

/**
 * Calls `produce` once for `consumers` callers and forgets the result after the last one took it, so the writer
 * (which writes a group's initializers one after the other) holds one group's data at a time.
 */
function shareAmong<T>(produce: () => Promise<T>, consumers: number): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let left = consumers;
  return () => {
    pending ??= produce();
    const result = pending;
    left -= 1;
    if (left === 0) pending = undefined;
    return result;
  };
}

/**
 * A place in the model's module tree, as transformers names it (`vit.encoder.layer.0.attention`): nodes added
 * through it are named `${path}/${OpType}`, weights are read from the checkpoint as `${path}.${name}`. Model
 * packages write one function per module that takes its `Module`, so the graph reads like `modeling_*.py`.
 *
 * @example
 * ```ts
 * const root = Module.root(graph, new GraphWeights(checkpoint), 'fp32');
 * const query = root.child('vit', 'encoder', 'layer', 0, 'attention', 'attention', 'query');
 * query.path; // 'vit.encoder.layer.0.attention.attention.query'
 * const bias = query.param('bias', [768]); // initializer 'vit.encoder.layer.0.attention.attention.query.bias'
 * ```
 */
export class Module {
  readonly path: string;
  readonly #context: BuildContext;

  private constructor(context: BuildContext, path: string) {
    this.#context = context;
    this.path = path;
  }

  /** The root module (path ''), over a graph, the checkpoint's weights and the dtype to build for. */
  static root(graph: GraphBuilder, weights: GraphWeights, dtype: GraphDtype): Module {
    if (!GRAPH_DTYPES.includes(dtype)) {
      throw new InvalidArgumentError(
        `dtype ${JSON.stringify(dtype)} cannot be built (expected one of ${GRAPH_DTYPES.join(', ')})`,
      );
    }
    return new Module({ graph, weights, dtype, params: new Map() }, '');
  }

  get graph(): GraphBuilder {
    return this.#context.graph;
  }

  get weights(): GraphWeights {
    return this.#context.weights;
  }

  get dtype(): GraphDtype {
    return this.#context.dtype;
  }

  /** The submodule at `names` below this one (numbers are list indices, as in `layer.0`). */
  child(...names: (string | number)[]): Module {
    const tail = names.join('.');
    return new Module(this.#context, this.path === '' ? tail : `${this.path}.${tail}`);
  }

  /** The checkpoint key of this module's weight `name`. */
  key(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }

  /** A node of this module with one output; named `${path}/${label ?? opType}` (suffixed `_1`, ... if repeated). */
  op(
    opType: string,
    inputs: readonly (Value | undefined)[],
    attributes: Attributes = {},
    options: { domain?: string; label?: string } = {},
  ): Value {
    return this.ops(opType, inputs, 1, attributes, options)[0]!;
  }

  /** A node with several outputs (Split, LayerNormalization's statistics, ...). */
  ops(
    opType: string,
    inputs: readonly (Value | undefined)[],
    outputCount: number,
    attributes: Attributes = {},
    options: { domain?: string; label?: string } = {},
  ): Value[] {
    const graph = this.#context.graph;
    const base = `${this.path}/${options.label ?? opType}`;
    return graph.node(
      options.domain ?? '',
      opType,
      inputs,
      attributes,
      graph.uniqueNodeName(base),
      outputCount,
    );
  }

  /** This module's weight `name`, checked to have `shape`; `CheckpointError` when it is missing or differs. */
  weight(name: string, shape: readonly number[]): WeightInfo {
    return this.#context.weights.info(this.key(name), shape);
  }

  /** Whether the checkpoint has this module's weight `name` (for optional weights a config does not decide). */
  hasWeight(name: string): boolean {
    return this.#context.weights.has(this.key(name));
  }

  /** This module's weight `name` as a float32 initializer named by its checkpoint key, data as stored. */
  param(name: string, shape: readonly number[]): Value {
    const key = this.key(name);
    this.weight(name, shape);
    const known = this.#context.params.get(key);
    if (known) return known;
    const weights = this.#context.weights;
    const value = this.#context.graph.initializer(key, 'float32', shape, () => weights.readFloat32(key));
    this.#context.params.set(key, value);
    return value;
  }

  /**
   * Initializers computed from checkpoint weights (a transposed matrix, a folded BatchNorm, int8 values and their
   * scales), named `${sources[0]}/${suffix}` and produced together by one call of `produce` when the graph is
   * written. The sources must have been checked with `weight()`.
   */
  derived(
    sources: readonly string[],
    specs: readonly DerivedSpec[],
    produce: (read: (key: string) => Promise<Float32Array>) => Promise<readonly InitializerArray[]>,
  ): Value[] {
    const { graph, weights, params } = this.#context;
    const base = sources[0]!;
    const names = specs.map((spec) => `${base}/${spec.suffix}`);
    if (names.every((name) => params.has(name))) return names.map((name) => params.get(name)!);
    const shared = shareAmong(() => produce((key) => weights.readFloat32(key)), specs.length);
    return specs.map((spec, i) => {
      const value = graph.initializer(names[i]!, spec.dtype, spec.dims, async () => (await shared())[i]!);
      params.set(names[i]!, value);
      return value;
    });
  }

  /** A small constant of this module, named `${path}/${label}` (equal constants are shared graph-wide). */
  constant(label: string, tensor: ConstantTensor): Value {
    const graph = this.#context.graph;
    return graph.constant(graph.uniqueValueName(`${this.path}/${label}`), tensor);
  }

  /** An int64 vector constant (shapes for Reshape, axes, indices). */
  int64s(label: string, values: readonly number[]): Value {
    return this.constant(label, {
      dtype: 'int64',
      dims: [values.length],
      data: BigInt64Array.from(values, (v) => BigInt(v)),
    });
  }

  /** An int64 scalar constant (a Gather index that drops its axis). */
  int64(label: string, value: number): Value {
    return this.constant(label, { dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(value)) });
  }

  /** A float32 scalar constant. */
  float32(label: string, value: number): Value {
    return this.constant(label, { dtype: 'float32', dims: [], data: Float32Array.of(value) });
  }
}
