import { InvalidArgumentError } from '../errors.js';
import type { OnnxDataType } from './onnx-proto.js';

/** A dimension of a graph input or output: a size, or a symbolic name shared by inputs and outputs ('batch_size'). */
export type Dim = number | string;

/** The typed array that holds each element type (float16 as its IEEE bits, bool one byte per element). */
export interface InitializerArrays {
  float32: Float32Array;
  float16: Uint16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  int32: Int32Array;
  int64: BigInt64Array;
  bool: Uint8Array;
}

export type InitializerArray = InitializerArrays[OnnxDataType];

const BYTES_PER_ELEMENT: Record<OnnxDataType, number> = {
  float32: 4,
  float16: 2,
  int8: 1,
  uint8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
};

const ARRAY_TYPES: Record<OnnxDataType, { name: string }> = {
  float32: Float32Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int32: Int32Array,
  int64: BigInt64Array,
  bool: Uint8Array,
};

/** Elements of a shape. */
export function elementsOf(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Bytes an initializer of this dtype and shape takes. */
export function byteLengthOf(dtype: OnnxDataType, dims: readonly number[]): number {
  return elementsOf(dims) * BYTES_PER_ELEMENT[dtype];
}

/**
 * A tensor flowing through the graph: a graph input, an initializer or a node output. Nodes refer to values, not
 * to names, so an output can be renamed after the node that makes it exists (`GraphBuilder.output`).
 */
export class Value {
  #name: string;

  /** @internal */
  constructor(name: string) {
    this.#name = name;
  }

  get name(): string {
    return this.#name;
  }

  /** @internal */
  rename(name: string): void {
    this.#name = name;
  }
}

/** How a value of the graph's boundary is typed: element type and dims (symbolic or fixed). */
export interface ValueType {
  readonly dtype: OnnxDataType;
  readonly dims: readonly Dim[];
}

/** A graph input or output. */
export interface BoundaryValue extends ValueType {
  readonly value: Value;
}

/** A small tensor given in full (a constant, an attribute's tensor value). */
export interface ConstantTensor {
  readonly dtype: OnnxDataType;
  readonly dims: readonly number[];
  readonly data: InitializerArray;
}

/**
 * An attribute value. Plain numbers are INT attributes (and number arrays INTS) except under the attribute names of
 * `FLOAT_ATTRIBUTES`, which are FLOAT(S); `float()` / `floats()` / `int()` / `ints()` say the type explicitly.
 */
export type AttributeValue =
  | number
  | string
  | readonly number[]
  | readonly string[]
  | TypedAttribute
  | { readonly tensor: ConstantTensor };

export interface TypedAttribute {
  readonly type: 'float' | 'int' | 'floats' | 'ints';
  readonly value: number | readonly number[];
}

export type Attributes = Readonly<Record<string, AttributeValue>>;

/** A FLOAT attribute, whatever its name: `{ ratio: float(0.5) }`. */
export const float = (value: number): TypedAttribute => ({ type: 'float', value });
/** A FLOATS attribute, whatever its name: `{ scales: floats([1, 2]) }`. */
export const floats = (value: readonly number[]): TypedAttribute => ({ type: 'floats', value });
/** An INT attribute, whatever its name: `{ alpha: int(1) }` for an operator whose alpha is an integer. */
export const int = (value: number): TypedAttribute => ({ type: 'int', value });
/** An INTS attribute, whatever its name: `{ scale: ints([2, 2]) }`. */
export const ints = (value: readonly number[]): TypedAttribute => ({ type: 'ints', value });

/**
 * Attribute names that are floating-point in every ONNX and com.microsoft operator that has them (LayerNormalization's
 * epsilon, Gemm's alpha/beta, HardSigmoid's alpha/beta, QuickGelu's alpha, FusedMatMul's alpha, ...).
 */
export const FLOAT_ATTRIBUTES: ReadonlySet<string> = new Set([
  'alpha',
  'beta',
  'epsilon',
  'gamma',
  'lambd',
  'scale',
  'momentum',
  'spatial_scale',
  'extrapolation_value',
  'cubic_coeff_a',
]);

/** An attribute with its ONNX type resolved. */
export type ResolvedAttribute =
  | { readonly name: string; readonly type: 'float' | 'int'; readonly value: number }
  | { readonly name: string; readonly type: 'floats' | 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly type: 'string'; readonly value: string }
  | { readonly name: string; readonly type: 'strings'; readonly value: readonly string[] }
  | { readonly name: string; readonly type: 'tensor'; readonly value: ConstantTensor };

function resolveAttribute(where: string, name: string, value: AttributeValue): ResolvedAttribute {
  if (typeof value === 'string') return { name, type: 'string', value };
  if (typeof value === 'number') {
    if (FLOAT_ATTRIBUTES.has(name)) return { name, type: 'float', value };
    if (!Number.isSafeInteger(value)) {
      throw new InvalidArgumentError(
        `${where}: attribute '${name}' = ${value} is not an integer (wrap it in float() for a FLOAT attribute)`,
      );
    }
    return { name, type: 'int', value };
  }
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'string')) return { name, type: 'strings', value };
    const numbers = value as readonly number[];
    if (FLOAT_ATTRIBUTES.has(name)) return { name, type: 'floats', value: numbers };
    if (!numbers.every(Number.isSafeInteger)) {
      throw new InvalidArgumentError(
        `${where}: attribute '${name}' = [${numbers.join(', ')}] is not a list of integers (wrap it in floats())`,
      );
    }
    return { name, type: 'ints', value: numbers };
  }
  if ('tensor' in value) return { name, type: 'tensor', value: value.tensor };
  const typed = value as TypedAttribute;
  if (typed.type === 'float' || typed.type === 'int') {
    return { name, type: typed.type, value: typed.value as number };
  }
  return { name, type: typed.type, value: typed.value as readonly number[] };
}

/** One operator call. */
export interface GraphNode {
  readonly name: string;
  readonly opType: string;
  /** '' for the ONNX domain, 'com.microsoft' for ONNX Runtime's contrib operators. */
  readonly domain: string;
  /** `undefined` for an optional input left out (written as ''). */
  readonly inputs: readonly (Value | undefined)[];
  readonly outputs: readonly Value[];
  readonly attributes: readonly ResolvedAttribute[];
}

/**
 * A constant tensor of the graph, produced only when the graph is written: weights are read from the checkpoint,
 * transformed (transposed, folded, quantized) and written one at a time, so a graph can be described in full
 * while no weight is in memory.
 */
export interface Initializer {
  readonly value: Value;
  readonly dtype: OnnxDataType;
  readonly dims: readonly number[];
  readonly byteLength: number;
  /** The data, in row-major order; called once, when the graph is written. */
  readonly produce: () => InitializerArray | Promise<InitializerArray>;
}

/** A graph ready to be written: what `GraphBuilder.build()` returns. */
export interface OnnxGraph {
  readonly name: string;
  readonly inputs: readonly BoundaryValue[];
  readonly outputs: readonly BoundaryValue[];
  readonly nodes: readonly GraphNode[];
  readonly initializers: readonly Initializer[];
  /** Operator sets the nodes use: '' -> 17 always, 'com.microsoft' -> 1 when a node uses it. */
  readonly opsetImports: ReadonlyMap<string, number>;
  /** Written as ModelProto.metadata_props, in key order. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Opset versions by domain. ai.onnx 17 is what the exported fixture graphs use (torch 1.13, opset 17). */
export const OPSET_VERSIONS: Readonly<Record<string, number>> = { '': 17, 'com.microsoft': 1 };

/** Checks that a typed array has the dtype's array type and the shape's element count. */
export function checkInitializerArray(
  name: string,
  dtype: OnnxDataType,
  dims: readonly number[],
  data: InitializerArray,
): void {
  const expected = ARRAY_TYPES[dtype];
  if (data.constructor !== expected) {
    throw new InvalidArgumentError(
      `initializer '${name}' (${dtype}) needs a ${expected.name}, got ${data.constructor.name}`,
    );
  }
  if (data.length !== elementsOf(dims)) {
    throw new InvalidArgumentError(
      `initializer '${name}' has ${data.length} elements, its shape [${dims.join(', ')}] needs ${elementsOf(dims)}`,
    );
  }
}

/**
 * Describes one ONNX graph: typed inputs, initializers produced lazily, nodes with attributes, outputs. Node
 * names are module paths (`vit.encoder.layer.0.attention.attention.query/MatMul`) and weights keep their
 * state-dict keys, so the graph reads in Netron like the checkpoint. Names are checked for uniqueness as they are
 * given, and a node may only use values already in the graph, so nodes are always in topological order.
 *
 * @example
 * ```ts
 * const g = new GraphBuilder('tiny');
 * const x = g.input('x', 'float32', ['batch_size', 4]);
 * const w = g.initializer('w', 'float32', [4, 2], () => new Float32Array(8).fill(0.5));
 * g.output(g.node('', 'MatMul', [x, w], {}, 'linear/MatMul')[0]!, 'y', 'float32', ['batch_size', 2]);
 * await writeOnnxModel(g.build(), 'tiny/model.onnx');
 * ```
 */
export class GraphBuilder {
  readonly name: string;
  readonly #inputs: BoundaryValue[] = [];
  readonly #outputs: BoundaryValue[] = [];
  readonly #nodes: GraphNode[] = [];
  readonly #initializers: Initializer[] = [];
  readonly #metadata: Record<string, string> = {};
  /** Every value name in use: inputs, initializers, node outputs. */
  readonly #valueNames = new Set<string>();
  readonly #nodeNames = new Set<string>();
  /** What made each value: an output may only take a node output's place once. */
  readonly #producers = new Map<Value, 'input' | 'initializer' | GraphNode>();
  readonly #constants = new Map<string, Value>();

  constructor(name: string) {
    this.name = name;
  }

  /** A graph input of this element type and shape. */
  input(name: string, dtype: OnnxDataType, dims: readonly Dim[]): Value {
    const value = this.#newValue(name);
    this.#producers.set(value, 'input');
    this.#inputs.push({ value, dtype, dims: [...dims] });
    return value;
  }

  /**
   * Declares `value` a graph output named `name`. A node output is renamed in place; a graph input or
   * initializer (or a value already an output) goes through an Identity, as ONNX needs a distinct name.
   */
  output(value: Value, name: string, dtype: OnnxDataType, dims: readonly Dim[]): void {
    const producer = this.#producers.get(value);
    if (producer === undefined) {
      throw new InvalidArgumentError(`output '${name}': the value is not from this graph`);
    }
    const out =
      typeof producer !== 'object' || this.#outputs.some((o) => o.value === value)
        ? this.node('', 'Identity', [value], {}, this.uniqueNodeName(`${name}/Identity`))[0]!
        : value;
    if (out.name !== name) {
      if (this.#valueNames.has(name)) throw new InvalidArgumentError(`value name '${name}' is already used`);
      this.#valueNames.delete(out.name);
      this.#valueNames.add(name);
      out.rename(name);
    }
    this.#outputs.push({ value: out, dtype, dims: [...dims] });
  }

  /** A constant tensor whose data is produced when the graph is written. */
  initializer(
    name: string,
    dtype: OnnxDataType,
    dims: readonly number[],
    produce: Initializer['produce'],
  ): Value {
    const value = this.#newValue(name);
    this.#producers.set(value, 'initializer');
    this.#initializers.push({
      value,
      dtype,
      dims: [...dims],
      byteLength: byteLengthOf(dtype, dims),
      produce,
    });
    return value;
  }

  /**
   * A small constant given in full (a shape for Reshape, a scalar). Equal constants are written once: the first
   * caller's name is kept.
   */
  constant(name: string, tensor: ConstantTensor): Value {
    checkInitializerArray(name, tensor.dtype, tensor.dims, tensor.data);
    const key = `${tensor.dtype}[${tensor.dims.join(',')}]${Array.from(tensor.data as ArrayLike<number | bigint>).join(',')}`;
    const known = this.#constants.get(key);
    if (known) return known;
    const value = this.initializer(name, tensor.dtype, tensor.dims, () => tensor.data);
    this.#constants.set(key, value);
    return value;
  }

  /**
   * Adds a node named `name` (unique in the graph) and returns its `outputCount` outputs, named
   * `${name}_output_${i}`.
   */
  node(
    domain: string,
    opType: string,
    inputs: readonly (Value | undefined)[],
    attributes: Attributes,
    name: string,
    outputCount = 1,
  ): Value[] {
    if (this.#nodeNames.has(name)) throw new InvalidArgumentError(`node name '${name}' is already used`);
    if (!(domain in OPSET_VERSIONS)) {
      throw new InvalidArgumentError(
        `node '${name}': domain '${domain}' is not one of ${Object.keys(OPSET_VERSIONS)
          .map((d) => `'${d}'`)
          .join(', ')}`,
      );
    }
    for (const input of inputs) {
      if (input !== undefined && !this.#producers.has(input)) {
        throw new InvalidArgumentError(`node '${name}': input '${input.name}' is not from this graph`);
      }
    }
    const outputs = Array.from({ length: outputCount }, (_, i) => this.#newValue(`${name}_output_${i}`));
    const node: GraphNode = {
      name,
      opType,
      domain,
      inputs: [...inputs],
      outputs,
      attributes: Object.entries(attributes).map(([key, value]) =>
        resolveAttribute(`node '${name}'`, key, value),
      ),
    };
    this.#nodeNames.add(name);
    this.#nodes.push(node);
    for (const output of outputs) this.#producers.set(output, node);
    return outputs;
  }

  /** A node name not used yet: `base`, else `base_1`, `base_2`, ... */
  uniqueNodeName(base: string): string {
    if (!this.#nodeNames.has(base)) return base;
    for (let i = 1; ; i++) if (!this.#nodeNames.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  /** A value name not used yet: `base`, else `base_1`, ... */
  uniqueValueName(base: string): string {
    if (!this.#valueNames.has(base)) return base;
    for (let i = 1; ; i++) if (!this.#valueNames.has(`${base}_${i}`)) return `${base}_${i}`;
  }

  /** A `metadata_props` entry of the written model (builder name and version, source checkpoint, ...). */
  setMetadata(key: string, value: string): void {
    this.#metadata[key] = value;
  }

  /** The finished graph; throws when it has no output. */
  build(): OnnxGraph {
    if (this.#outputs.length === 0) throw new InvalidArgumentError(`graph '${this.name}' has no output`);
    const domains = new Set(['', ...this.#nodes.map((n) => n.domain)]);
    const opsetImports = new Map(Object.entries(OPSET_VERSIONS).filter(([domain]) => domains.has(domain)));
    return {
      name: this.name,
      inputs: [...this.#inputs],
      outputs: [...this.#outputs],
      nodes: [...this.#nodes],
      initializers: [...this.#initializers],
      opsetImports,
      metadata: Object.fromEntries(Object.entries(this.#metadata).sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  }

  #newValue(name: string): Value {
    if (name === '') throw new InvalidArgumentError('a value name cannot be empty');
    if (this.#valueNames.has(name)) throw new InvalidArgumentError(`value name '${name}' is already used`);
    this.#valueNames.add(name);
    return new Value(name);
  }
}
