export { ModelSession, createSession } from './session.js';
export type { CreateSessionOptions, NamedTensors, RunOptions } from './session.js';
export { fromOrtTensor, toOrtTensor } from './ort-tensor.js';
export { CUDA_INSTALL_HINT, executionProvidersFor, selectDevice, systemProbes } from './device.js';
export type {
  Device,
  DeviceOption,
  DeviceProbes,
  DeviceSelection,
  ProbeResult,
  SelectDeviceOptions,
} from './device.js';
export { checkSessionOptions, defaultSessionOptions, physicalCoreCount } from './session-options.js';
export { graphFileCandidates, graphFileName, isModelDtype } from './model-file.js';
export type { ModelDtype } from './model-file.js';
export { checkFeeds } from './input-check.js';
export type { GraphInput } from './input-check.js';
