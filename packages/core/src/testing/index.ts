export { encodeNpy, parseNpy, readNpy } from './npy.js';
export {
  assertTensorClose,
  compareArrays,
  compareTensors,
  describeComparison,
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
export { fixtureImagePath, fixturePath, fixtureVariant, fixturesRoot } from './fixtures.js';
export {
  checkImageProcessorCase,
  imageInputOutputs,
  imageProcessorCases,
  preprocessCaseImages,
} from './image-processor-cases.js';
export type { ImagePreprocessor } from './image-processor-cases.js';
export { HubServer, fileSize } from './hub-server.js';
export type { Fault, HubServerOptions, RecordedRequest } from './hub-server.js';
export { checkModelCase } from './model-cases.js';
export type { ForwardModel } from './model-cases.js';
