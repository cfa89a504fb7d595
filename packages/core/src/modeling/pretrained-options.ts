import type * as ort from 'onnxruntime-node';
import { RESOLVE_OPTIONS, type ResolveOptions } from '../hub/resolve.js';
import type { DeviceOption } from '../runtime/device.js';
import type { ModelDtype } from '../runtime/model-file.js';
import { type OptionNames, optionNames } from '../validation/option-names.js';
import type { GraphSource, LoadProgress } from './model-graphs.js';

export interface PretrainedOptions extends ResolveOptions {
  /** 'cpu' (default), 'cuda', or 'auto' (CUDA when it can run, else CPU; see `model.device`). */
  device?: DeviceOption;
  /** Which GPU (default 0). */
  deviceId?: number;
  /** Graph variant: 'fp32' (model.onnx, default), 'fp16' (model_fp16.onnx), 'q8' (model_quantized.onnx); or one per graph. */
  dtype?: ModelDtype | Readonly<Record<string, ModelDtype>>;
  /** ONNX Runtime session options over ortvision's defaults. */
  sessionOptions?: ort.InferenceSession.SessionOptions;
  /**
   * 'eager' (default) downloads and loads the graphs now (with `graphGroups`, the first complete set; the others
   * when first run); 'lazy' waits until a graph is first run.
   */
  loading?: 'eager' | 'lazy';
  /**
   * Where the graphs come from: 'auto' (default) takes each graph from `onnx/` (or the repository root) when the
   * folder or repository has it for the dtype, and otherwise builds it from the checkpoint (`model.safetensors`,
   * `pytorch_model.bin`, sharded or not) when the class can; 'onnx' takes exported graphs only; 'checkpoint' always
   * builds (ignoring `onnx/`). Decided once per load from the file list. Built graphs are cached (`graphCacheDir`).
   */
  graphSource?: GraphSource;
  /**
   * Where graphs built from checkpoints are cached (default: `$ORTVISION_CACHE/graphs`, else
   * `~/.cache/ortvision/graphs`); see `defaultGraphCacheDir`.
   */
  graphCacheDir?: string;
  /** Download progress of each file, and build progress of each graph built from a checkpoint (`kind: 'build'`). */
  onProgress?: (progress: LoadProgress) => void;
}

/** The keys of `PretrainedOptions`: what every model's `fromPretrained` and every task helper's loader accept. */
export const PRETRAINED_OPTIONS: OptionNames<PretrainedOptions> = [
  ...RESOLVE_OPTIONS,
  ...optionNames<Omit<PretrainedOptions, keyof ResolveOptions>>({
    device: true,
    deviceId: true,
    dtype: true,
    sessionOptions: true,
    loading: true,
    graphSource: true,
    graphCacheDir: true,
  }),
];
