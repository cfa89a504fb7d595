export { PretrainedConfig } from './config.js';
export { CLIPVisionConfig } from './clip-vision-config.js';
export * from './clip/index.js';
export type {
  ConfigClass,
  ConfigField,
  ConfigFieldType,
  ConfigOptions,
  ConfigSchema,
  ConfigValue,
} from './config.js';
export { PRETRAINED_OPTIONS, PreTrainedModel } from './pretrained-model.js';
export type { ModelInit, PreTrainedModelClass, PretrainedOptions } from './pretrained-model.js';
export { fromPretrainedByArchitecture } from './architectures.js';
export { loadPretrained } from './load-pretrained.js';
export { loadGraph } from './graph.js';
export type { LoadGraphOptions } from './graph.js';
export type { IsGiven } from './processor-outputs.js';
export { makePipeline, resolveModel } from './pipeline.js';
export type { ModelSource, Pipeline } from './pipeline.js';
export {
  batchedTaskCall,
  defineTask,
  imageInputs,
  prepareInputs,
  taskCall,
  textInputs,
} from './task.js';
export type {
  BatchedTaskCallSpec,
  BatchedTaskFunction,
  LoadedTask,
  Loader,
  TaskCallOptions,
  TaskCallSpec,
  TaskContext,
  TaskDefinition,
  TaskFunction,
  TaskHelper,
  TaskInputKind,
  TaskLoadOptions,
} from './task.js';
export {
  FEATURE_EXTRACTION_OPTIONS,
  classifyImages,
  extractImageFeatures,
  imageClassificationTask,
  imageFeatureExtractionTask,
} from './image-tasks.js';
export type {
  FeatureExtractionOptions,
  ImageClassificationFunction,
  ImageClassificationTask,
  ImageFeatureExtractionFunction,
  ImageFeatureExtractionTask,
  ImagePreprocessing,
  ImagesInput,
  ImageTaskOptions,
  ImageTaskParts,
  LoadablePixelModel,
  PixelModel,
} from './image-tasks.js';
export { MAP_OPTIONS, mapInOrder } from './map-in-order.js';
export type { MapCall, MapOptions, MapProgress, MapResult, MapResults } from './map-in-order.js';
export { DEFAULT_POOL_WORKERS, TaskWorkerPool } from './task-worker-pool.js';
export type { TaskWorkerMap, TaskWorkerPoolOptions, TaskWorkerSpec } from './task-worker-pool.js';
export type { CheckpointGraphs } from './checkpoint-graphs.js';
export { describeCheckpointGraphs, writeDescribedGraph } from './build-checkpoint-graphs.js';
export type { CheckpointGraphsClass, DescribedCheckpointGraphs } from './build-checkpoint-graphs.js';
export { GRAPH_SOURCES, ModelGraphs, checkGraphSource } from './model-graphs.js';
export type {
  GraphBuildProgress,
  GraphRoute,
  GraphSource,
  LoadProgress,
  ModelGraphsOptions,
} from './model-graphs.js';
export {
  GraphCache,
  canonicalJson,
  defaultGraphCacheDir,
  graphBuildKeyHash,
  localFileSha256,
} from './graph-cache.js';
export type { CheckpointFileIdentity, GraphBuildKey } from './graph-cache.js';
