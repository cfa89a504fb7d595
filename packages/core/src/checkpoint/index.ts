export type { Checkpoint, WeightDtype, WeightInfo } from './checkpoint.js';
export { openSafetensors, readSafetensorsIndex } from './safetensors.js';
export { writeSafetensors } from './safetensors-writer.js';
export type { WriteSafetensorsOptions } from './safetensors-writer.js';
export type { WeightData, WeightEntry, WeightSource } from './weight-entries.js';
export { openPytorchCheckpoint, readPytorchIndex } from './pytorch.js';
export { openShardedCheckpoint, readShardedIndex } from './sharded.js';
export type { OpenShardedOptions, ShardedCheckpointIndex } from './sharded.js';
export { openCheckpoint, selectCheckpointFile } from './open-checkpoint.js';
export type {
  CheckpointFileChoice,
  CheckpointFormat,
  CheckpointSelectionOptions,
  ResolvedCheckpointFiles,
} from './open-checkpoint.js';
export { StateDict } from './state-dict.js';
export type { IgnoredWeight, StateDictOptions } from './state-dict.js';
export { StoredCheckpoint } from './stored-checkpoint.js';
export type { StoredWeight } from './stored-checkpoint.js';
