export { encodeNpy, parseNpy, readNpy } from './npy.js';
export {
  assertTensorClose,
  compareArrays,
  compareTensors,
  describeComparison,
  differenceRelativeToLargest,
  ToleranceError,
} from './compare.js';
export type { Comparison, Tolerance } from './compare.js';
export { assertJsonClose, compareJson } from './compare-json.js';
export type { JsonComparison, ResultValue } from './compare-json.js';
export { caseKinds, isNpyReference, loadFixture, validateManifest } from './manifest.js';
export type {
  CaseKind,
  Fixture,
  FixtureManifest,
  GraphDescription,
  JsonValue,
  ModelCase,
  PipelineCase,
  PostprocessCase,
  ProcessorCase,
} from './manifest.js';
export {
  checkpointFolders,
  fixtureImagePath,
  fixturePath,
  fixtureVariant,
  fixturesRoot,
} from './fixtures.js';
export type { CheckpointFolders } from './fixtures.js';
export { prng } from './prng.js';
export {
  checkImageProcessorCase,
  imageInputOutputs,
  imageProcessorCases,
  preprocessCaseImages,
} from './image-processor-cases.js';
export type { ImagePreprocessor } from './image-processor-cases.js';
export { FILE_LIST, HubServer, closedEndpoint, fileSize } from './hub-server.js';
export type { Fault, HubServerOptions, MetadataFault, RecordedRequest } from './hub-server.js';
export {
  checkClassModelCases,
  checkGraphModelCases,
  classModelCases,
  checkModelCase,
  checkModelCases,
  checkPipelineCases,
  failedCases,
} from './model-cases.js';
export type {
  ClassModelCases,
  ForwardModel,
  GraphForward,
  LoadableForwardModelClass,
  LoadableModelClass,
  ModelCaseResult,
  PipelineCaseResult,
} from './model-cases.js';
export { crc32, writeZip } from './zip-writer.js';
export type { ZipRecord, ZipWriteOptions } from './zip-writer.js';
export {
  PickleWriter,
  TORCH_STORAGE_CLASSES,
  torchStateDictPickle,
  torchZipBytes,
  writeTorchCheckpoint,
} from './torch-checkpoint.js';
export type { TorchStorageSpec, TorchTensorSpec, TorchZipOptions } from './torch-checkpoint.js';
export {
  randomWeights,
  readWeightsShapes,
  weightsShapesCheckpoint,
  writeRandomCheckpoint,
} from './random-checkpoint.js';
export type { RandomWeightsOptions, WeightsShapes } from './random-checkpoint.js';
export { readOnnxModel } from './onnx-reader.js';
export type {
  OnnxAttributeValue,
  OnnxModelInfo,
  OnnxNodeInfo,
  OnnxTensorInfo,
  OnnxValueInfo,
} from './onnx-reader.js';
export { memoryCheckpoint } from './memory-checkpoint.js';
export { runOnnxGraph } from './run-graph.js';
export {
  boundaryDifferences,
  checkFixtureGraphs,
  fixtureCheckpointWith,
  graphBoundary,
  relativeErrors,
  runFixtureModelCases,
  writeCheckpointGraphs,
} from './checkpoint-graphs.js';
export type { BoundaryValueInfo, FixtureGraphsCheck, GraphCaseResult } from './checkpoint-graphs.js';
