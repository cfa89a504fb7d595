import type * as ort from 'onnxruntime-node';
import { RESOLVE_OPTIONS, type ResolveOptions } from '../hub/resolve.js';
import type { DeviceOption } from '../runtime/device.js';
import type { ModelDtype } from '../runtime/model-file.js';
import { type OptionNames, optionNames } from '../validation/option-names.js';

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
  }),
];
