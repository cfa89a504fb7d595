import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { DisposedError, InputShapeError, ModelNotFoundError } from '../errors.js';
import { type DataType, Tensor, isDataType } from '../tensor/tensor.js';

export interface CreateSessionOptions {
  /** Passed to ONNX Runtime as is (thread counts, graph optimization level, ...). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
}

/** Named tensors in, named tensors out. */
export type NamedTensors = Record<string, Tensor>;

/** Wraps a Tensor as an `ort.Tensor` sharing its buffer. */
export function toOrtTensor(tensor: Tensor): ort.Tensor {
  return new ort.Tensor(tensor.dtype, tensor.data, [...tensor.dims]);
}

/** Wraps an `ort.Tensor` as a Tensor sharing its buffer. */
export function fromOrtTensor(value: ort.Tensor): Tensor {
  const dtype = value.type as string;
  if (!isDataType(dtype)) throw new InputShapeError(`ONNX Runtime returned an unsupported dtype '${dtype}'`);
  const data =
    dtype === 'bool'
      ? new Uint8Array((value.data as Uint8Array).buffer, (value.data as Uint8Array).byteOffset, value.size)
      : value.data;
  return new Tensor(dtype as DataType, data as Tensor['data'], value.dims);
}

/**
 * One ONNX graph loaded in ONNX Runtime. Created once per model and reused for every call; `dispose()` frees the
 * native session.
 */
export class ModelSession {
  readonly path: string;
  #session: ort.InferenceSession | undefined;

  private constructor(path: string, session: ort.InferenceSession) {
    this.path = path;
    this.#session = session;
  }

  static async create(path: string, options: CreateSessionOptions = {}): Promise<ModelSession> {
    if (!existsSync(path)) throw new ModelNotFoundError(`ONNX graph not found: ${path}`);
    const session = await ort.InferenceSession.create(path, options.sessionOptions ?? {});
    return new ModelSession(path, session);
  }

  get inputNames(): readonly string[] {
    return this.#live().inputNames;
  }

  get outputNames(): readonly string[] {
    return this.#live().outputNames;
  }

  /** Runs the graph on the given feeds; every graph input must be fed, extra feeds are refused by name. */
  async run(feeds: NamedTensors): Promise<NamedTensors> {
    const session = this.#live();
    const missing = session.inputNames.filter((name) => !(name in feeds));
    const unknown = Object.keys(feeds).filter((name) => !session.inputNames.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      throw new InputShapeError(
        `feeds for ${this.path} do not match the graph inputs [${session.inputNames.join(', ')}]${missing.length ? `: missing ${missing.join(', ')}` : ''}${unknown.length ? `: unknown ${unknown.join(', ')}` : ''}`,
      );
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(tensor);
    const results = await session.run(ortFeeds);
    const outputs: NamedTensors = {};
    for (const name of session.outputNames) outputs[name] = fromOrtTensor(results[name]!);
    return outputs;
  }

  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.release();
  }

  #live(): ort.InferenceSession {
    if (!this.#session) throw new DisposedError(`the session for ${this.path} was disposed`);
    return this.#session;
  }
}
