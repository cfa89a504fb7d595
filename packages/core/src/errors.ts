/**
 * Every error ortvision throws on purpose is an `OrtVisionError`, so callers can tell our typed failures from
 * bugs. Subclasses say which part of the input was wrong; messages name the offending value and what was
 * expected.
 */
export class OrtVisionError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A model id, revision or file that does not exist locally or on the Hub. */
export class ModelNotFoundError extends OrtVisionError {}

/** The Hub refused access: a token is missing or lacks the rights for a gated/private repository. */
export class AuthenticationError extends OrtVisionError {}

/** A download failed after its retries (network fault, bad status, checksum mismatch, write error). */
export class DownloadError extends OrtVisionError {}

/** Image bytes that cannot be decoded, an unsupported format, or pixels outside the documented limits. */
export class InvalidImageError extends OrtVisionError {}

/** An ONNX graph file that ONNX Runtime cannot load: not ONNX, truncated, or empty. */
export class InvalidModelError extends OrtVisionError {}

/** A config file that is missing, not JSON, or has a field of the wrong type or value. */
export class ConfigError extends OrtVisionError {}

/** The requested device cannot run: no GPU, or the CUDA execution provider binaries are not installed. */
export class DeviceUnavailableError extends OrtVisionError {}

/** A tensor or input whose shape, rank, dtype or batch length does not match what the model expects. */
export class InputShapeError extends OrtVisionError {}

/**
 * ONNX Runtime failed inside a graph run for a reason other than the inputs' shape (out of memory, a device fault),
 * or a run produced NaN where results are computed from its output (a broken graph, an fp16 graph that overflowed).
 * The message names the graph or output and keeps ONNX Runtime's own words.
 */
export class ModelRunError extends OrtVisionError {}

/** An argument with a value outside what the function accepts (NaN threshold, empty label list, ...). */
export class InvalidArgumentError extends OrtVisionError {}

/** A call on an object whose native resources were already released with `dispose()`. */
export class DisposedError extends OrtVisionError {}

/** A fixture, npy file or manifest that does not follow the documented format. */
export class FixtureFormatError extends OrtVisionError {}

/** An optional npm package that a feature needs is not installed (e.g. `@huggingface/tokenizers` for text models). */
export class MissingDependencyError extends OrtVisionError {}

/**
 * A checkpoint (`model.safetensors`, `pytorch_model.bin`, their sharded indexes) that cannot be read or does not fit
 * the model: truncated, an unknown dtype, a missing or unexpected key, a wrong shape, a pickle that names something
 * outside torch's format. The message names the file and, where there is one, the key.
 */
export class CheckpointError extends OrtVisionError {}

/**
 * An operation stopped before it finished: its `AbortSignal` fired, or a time limit ran out (`timedOut`). The
 * message says which operation and why; `cause` holds the signal's reason.
 */
export class AbortedError extends OrtVisionError {
  /** True when a time limit (not the caller's signal) stopped it. */
  readonly timedOut: boolean;

  constructor(message: string, options?: ErrorOptions & { timedOut?: boolean }) {
    super(message, options);
    this.timedOut = options?.timedOut ?? false;
  }
}
