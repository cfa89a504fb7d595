import { existsSync, statSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { checkAbortSignal, currentAbortSignal, throwIfAborted } from '../abort.js';
import {
  DeviceUnavailableError,
  DisposedError,
  InputShapeError,
  InvalidModelError,
  ModelNotFoundError,
  ModelRunError,
} from '../errors.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkOptions, optionNames } from '../validation/option-names.js';
import {
  CUDA_INSTALL_HINT,
  type Device,
  type DeviceOption,
  type DeviceProbes,
  type DeviceSelection,
  executionProvidersFor,
  selectDevice,
} from './device.js';
import { type GraphInput, checkFeeds, describeInputs } from './input-check.js';
import { fromOrtTensor, toOrtTensor } from './ort-tensor.js';
import { checkSessionOptions, defaultSessionOptions } from './session-options.js';

export interface CreateSessionOptions {
  /** 'cpu' (default), 'cuda', or 'auto' (CUDA when it can run, else CPU). */
  device?: DeviceOption;
  /** Which GPU for 'cuda' / 'auto' (default 0). */
  deviceId?: number;
  /** Passed to ONNX Runtime over our defaults (thread counts, graph optimization level, ...). */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /** Device checks, for tests. */
  probes?: DeviceProbes;
}

/** Named tensors in, named tensors out. */
export type NamedTensors = Record<string, Tensor>;

export interface RunOptions {
  /** Drop feeds the graph does not declare instead of refusing them (processors may produce extra inputs). */
  ignoreUnknownFeeds?: boolean;
  /**
   * Checked before the run and after it (ONNX Runtime cannot interrupt a run once started: an abort during a run
   * takes effect when it ends, and its result is dropped). Default: the signal of the task call in progress
   * (`withAbortSignal`), if any.
   */
  signal?: AbortSignal;
}

const CREATE_SESSION_OPTIONS = optionNames<CreateSessionOptions>({
  device: true,
  deviceId: true,
  sessionOptions: true,
  probes: true,
});

const RUN_OPTIONS = optionNames<RunOptions>({ ignoreUnknownFeeds: true, signal: true });

/**
 * The kinds of ONNX Runtime run failures that mean the feeds do not fit the graph in a way its declared inputs
 * cannot say: an index past a table (token ids past the vocabulary, a sequence longer than the position
 * embeddings), shapes that do not broadcast or reshape.
 */
const INPUT_FAILURE =
  /out of (data )?bounds|out of range|must be within|invalid (input )?(shape|dim|rank)|shape mismatch|incompatible (shape|dim)|broadcast|reshape|dimension/i;

/** ONNX Runtime's error from `session.run`, classified: the inputs (InputShapeError) or the run itself (ModelRunError). */
export function runFailure(path: string, device: Device, error: unknown): Error {
  const message = (error as Error)?.message ?? String(error);
  if (INPUT_FAILURE.test(message)) {
    return new InputShapeError(
      `ONNX Runtime could not run ${path} on these inputs (they do not fit the graph; does it belong to this model?): ${message}`,
      { cause: error },
    );
  }
  const memory = /alloc|out of memory|\boom\b/i.test(message);
  return new ModelRunError(
    `ONNX Runtime failed while running ${path} on ${device}${memory ? ' (out of memory: try a smaller batch, or another device)' : ''}: ${message}`,
    { cause: error },
  );
}

async function createOrtSession(
  path: string,
  selection: DeviceSelection,
  sessionOptions: ort.InferenceSession.SessionOptions | undefined,
): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    ...defaultSessionOptions(sessionOptions),
    executionProviders: executionProvidersFor(selection),
  });
}

/**
 * A CPU session. ONNX Runtime's own error for a file it cannot load is a bare Error from native code; it becomes
 * InvalidModelError naming the file, with ONNX Runtime's reason kept in the message.
 */
async function createCpuSession(
  path: string,
  selection: DeviceSelection,
  sessionOptions: ort.InferenceSession.SessionOptions | undefined,
): Promise<ort.InferenceSession> {
  try {
    return await createOrtSession(path, selection, sessionOptions);
  } catch (error) {
    throw new InvalidModelError(
      `ONNX Runtime cannot load ${path} (${statSync(path).size} bytes): ${(error as Error).message.trim()} (expected a complete ONNX graph)`,
      { cause: error },
    );
  }
}

/**
 * One ONNX graph loaded in ONNX Runtime on one device. Created once per model and reused for every call; runs may
 * overlap; `dispose()` waits for runs in flight, then frees the native session.
 */
export class ModelSession {
  readonly path: string;
  /** The device the session runs on (what 'auto' chose). */
  readonly device: Device;
  readonly inputs: readonly GraphInput[];
  #session: ort.InferenceSession | undefined;
  #inFlight = new Set<Promise<unknown>>();

  private constructor(path: string, device: Device, session: ort.InferenceSession) {
    this.path = path;
    this.device = device;
    this.#session = session;
    this.inputs = describeInputs(session.inputMetadata);
  }

  static async create(path: string, options: CreateSessionOptions = {}): Promise<ModelSession> {
    checkOptions(options, CREATE_SESSION_OPTIONS, 'createSession');
    checkSessionOptions(options.sessionOptions);
    if (!existsSync(path) || !statSync(path).isFile()) {
      throw new ModelNotFoundError(`ONNX graph not found: ${path}`);
    }
    const requested = options.device ?? 'cpu';
    const selection = selectDevice(requested, { deviceId: options.deviceId, probes: options.probes });
    if (selection.device === 'cpu') {
      return new ModelSession(path, 'cpu', await createCpuSession(path, selection, options.sessionOptions));
    }
    try {
      return new ModelSession(path, 'cuda', await createOrtSession(path, selection, options.sessionOptions));
    } catch (error) {
      // The provider library was found, but its CUDA/cuDNN dependencies may still fail to load at this point.
      if (requested === 'auto') {
        const cpu: DeviceSelection = { device: 'cpu', deviceId: 0, reason: 'CUDA session creation failed' };
        return new ModelSession(path, 'cpu', await createCpuSession(path, cpu, options.sessionOptions));
      }
      throw new DeviceUnavailableError(
        `device 'cuda' could not start a session for ${path}: ${(error as Error).message}. Check that ${CUDA_INSTALL_HINT}`,
        { cause: error },
      );
    }
  }

  get inputNames(): readonly string[] {
    return this.#live().inputNames;
  }

  get outputNames(): readonly string[] {
    return this.#live().outputNames;
  }

  /**
   * Runs the graph. Every declared input must be fed with its dtype and rank (fixed dimensions must match); a
   * mismatch throws `InputShapeError` naming the input before ONNX Runtime is called. A failure inside the run is
   * `InputShapeError` when the feeds do not fit the graph (an index out of bounds...), else `ModelRunError`. An
   * aborted `signal` throws `AbortedError` before the run, or after it when it fired during the run.
   */
  async run(feeds: NamedTensors, options: RunOptions = {}): Promise<NamedTensors> {
    checkOptions(options, RUN_OPTIONS, 'ModelSession.run');
    const signal = checkAbortSignal(options.signal, 'ModelSession.run') ?? currentAbortSignal();
    throwIfAborted(signal, `running ${this.path}`);
    const session = this.#live();
    const used = options.ignoreUnknownFeeds
      ? Object.fromEntries(session.inputNames.filter((n) => n in feeds).map((n) => [n, feeds[n]!]))
      : feeds;
    checkFeeds(this.path, this.inputs, used);
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(used)) ortFeeds[name] = toOrtTensor(tensor);
    const running = session.run(ortFeeds);
    this.#inFlight.add(running);
    try {
      const results = await running.catch((error: unknown) => {
        throw runFailure(this.path, this.device, error);
      });
      throwIfAborted(signal, `running ${this.path}`);
      const outputs: NamedTensors = {};
      for (const name of session.outputNames) {
        const value = results[name];
        if (!value) throw new InputShapeError(`${this.path} returned no output '${name}'`);
        outputs[name] = fromOrtTensor(value as ort.Tensor);
      }
      return outputs;
    } finally {
      this.#inFlight.delete(running);
    }
  }

  get disposed(): boolean {
    return this.#session === undefined;
  }

  async dispose(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    if (!session) return;
    // Runs already handed to ONNX Runtime finish first: releasing under them would free memory they use.
    await Promise.allSettled([...this.#inFlight]);
    await session.release();
  }

  #live(): ort.InferenceSession {
    if (!this.#session) throw new DisposedError(`the session for ${this.path} was disposed`);
    return this.#session;
  }
}

/** Loads an ONNX graph on the requested device; the same as `ModelSession.create`. */
export function createSession(path: string, options: CreateSessionOptions = {}): Promise<ModelSession> {
  return ModelSession.create(path, options);
}
