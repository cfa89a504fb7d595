import type { NamedTensors, Tensor } from '@ortvision/core';
import type {
  Fixture,
  ModelCase,
  PipelineCase,
  PostprocessCase,
  ProcessorCase,
  ResultValue,
} from '@ortvision/core/testing';

/** What an adapter gets besides the case: the fixture and path helpers. */
export interface CaseContext {
  fixture: Fixture;
  /** Absolute path of a file named relative to the fixture folder (e.g. `onnx/model.onnx`). */
  fixtureFile(relative: string): string;
  /** Absolute path of a test image named as in manifests (relative to the shared images folder). */
  imagePath(name: string): string;
  /** Reads a .npy named relative to the fixture folder. */
  readNpy(relative: string): Promise<Tensor>;
}

/**
 * Maps one `model_type`'s manifest cases to the public API of its package. Keys are the manifest's `call`
 * (processor and post-process cases) or `task` (pipeline cases). Model cases default to a generic graph run;
 * an adapter overrides `model` to run them through its package's model classes.
 *
 * Results are compared by the runner: processor and model results as named tensors against the case's .npy
 * files, post-process and pipeline results as JSON against `expected` (numbers within atol, `{npy}` arrays
 * loaded and compared element-wise, everything else exact).
 */
export interface ConformanceAdapter {
  processor?: Record<string, (testCase: ProcessorCase, context: CaseContext) => Promise<NamedTensors>>;
  model?: (testCase: ModelCase, context: CaseContext) => Promise<NamedTensors>;
  postprocess?: Record<string, (testCase: PostprocessCase, context: CaseContext) => Promise<ResultValue>>;
  pipeline?: Record<string, (testCase: PipelineCase, context: CaseContext) => Promise<ResultValue>>;
  /** Releases models the adapter cached across cases. */
  dispose?(): Promise<void>;
}

/**
 * Thrown by an adapter for a case it recognises but cannot run yet (e.g. a processor case with text when only
 * the image part is wired): the runner reports it like a missing adapter (exit code 2), not as a wrong result.
 */
export class UnsupportedCaseError extends Error {
  override name = 'UnsupportedCaseError';
}
