export type { Checkpoint, WeightDtype, WeightInfo } from './checkpoint.js';
export { openSafetensors, readSafetensorsIndex } from './safetensors.js';
export { StoredCheckpoint } from './stored-checkpoint.js';
export type { StoredWeight } from './stored-checkpoint.js';
