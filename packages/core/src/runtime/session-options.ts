import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type * as ort from 'onnxruntime-node';
import { InvalidArgumentError } from '../errors.js';
import { describeValue } from '../validation/describe-value.js';
import { checkInteger } from '../validation/numbers.js';
import { checkOptions, optionNames } from '../validation/option-names.js';

let physicalCores: number | undefined;

/**
 * Physical cores available to this process. ONNX Runtime's own default is one thread per logical core, which on
 * hyper-threaded machines runs two compute threads per core and is slower for the matrix kernels.
 */
export function physicalCoreCount(): number {
  if (physicalCores !== undefined) return physicalCores;
  const logical = availableParallelism();
  let physical = logical;
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    for (const block of cpuinfo.split('\n\n')) {
      const socket = /^physical id\s*:\s*(\d+)/m.exec(block)?.[1];
      const core = /^core id\s*:\s*(\d+)/m.exec(block)?.[1];
      if (socket !== undefined && core !== undefined) cores.add(`${socket}:${core}`);
    }
    if (cores.size > 0) physical = cores.size;
  } catch {
    // Not Linux: keep the logical count.
  }
  physicalCores = Math.max(1, Math.min(physical, logical));
  return physicalCores;
}

/**
 * Our defaults, overlaid by what the caller passes (execution providers are not taken from here: the device
 * decides them):
 * - intra-op threads = physical cores: one thread measured 1.63x slower on ViT-B/16 (2-core machine);
 * - graph optimization 'extended' rather than 'all': on this project's full-size graphs, 'extended' ran
 *   session.run at 0.86x the time of 'all' for ViT-B/16, 0.93x for LeViT-256, 0.99x for CLIPSeg-rd64 and 1.00x for
 *   Perceiver (interleaved medians, tooling/bench `session-options` and a side-by-side run); 'all' adds layout
 *   transformations that cost more than they save on these transformer graphs;
 * - memory arena left on (turning it off changed nothing measurable);
 * - log severity 3: ONNX Runtime prints errors (and fatal errors) to stderr, not warnings; the errors also reach the
 *   caller as typed ortvision errors.
 */
export function defaultSessionOptions(
  overrides: ort.InferenceSession.SessionOptions = {},
): ort.InferenceSession.SessionOptions {
  checkSessionOptions(overrides);
  return {
    intraOpNumThreads: physicalCoreCount(),
    graphOptimizationLevel: 'extended',
    logSeverityLevel: 3,
    ...overrides,
  };
}

/** Every key of ONNX Runtime's SessionOptions (a new ONNX Runtime option is a type error here until it is listed). */
const SESSION_OPTIONS = optionNames<ort.InferenceSession.SessionOptions>({
  executionProviders: true,
  intraOpNumThreads: true,
  interOpNumThreads: true,
  freeDimensionOverrides: true,
  graphOptimizationLevel: true,
  enableCpuMemArena: true,
  enableMemPattern: true,
  executionMode: true,
  optimizedModelFilePath: true,
  enableProfiling: true,
  profileFilePrefix: true,
  logId: true,
  logSeverityLevel: true,
  logVerbosityLevel: true,
  preferredOutputLocation: true,
  enableGraphCapture: true,
  extra: true,
  externalData: true,
});

function checkOneOf(value: unknown, name: string, allowed: readonly unknown[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    throw new InvalidArgumentError(
      `sessionOptions.${name} must be one of ${allowed.map((v) => describeValue(v)).join(', ')}, got ${describeValue(value)}`,
    );
  }
}

function checkType(value: unknown, name: string, type: 'boolean' | 'string' | 'object'): void {
  const actual = value === null ? 'null' : typeof value;
  if (value !== undefined && actual !== type) {
    throw new InvalidArgumentError(`sessionOptions.${name} must be a ${type}, got ${describeValue(value)}`);
  }
}

/**
 * Checks ONNX Runtime session options before native code sees them: unknown keys, thread counts that are not
 * integers >= 0 (0 = ONNX Runtime's default), levels outside their ranges, and `executionProviders` (the `device`
 * option decides those) are `InvalidArgumentError`s naming the option, rather than a native failure that reads as
 * a broken graph.
 *
 * @example
 * checkSessionOptions({ intraOpNumThreads: -5 }); // InvalidArgumentError: sessionOptions.intraOpNumThreads must be an integer >= 0, got -5
 */
export function checkSessionOptions(options: ort.InferenceSession.SessionOptions | undefined): void {
  const o = checkOptions(options, SESSION_OPTIONS, 'sessionOptions');
  for (const name of ['intraOpNumThreads', 'interOpNumThreads', 'logVerbosityLevel'] as const) {
    if (o[name] !== undefined) checkInteger(o[name], `sessionOptions.${name}`, { min: 0 });
  }
  if (o.logSeverityLevel !== undefined) {
    checkInteger(o.logSeverityLevel, 'sessionOptions.logSeverityLevel', { min: 0, max: 4 });
  }
  checkOneOf(o.graphOptimizationLevel, 'graphOptimizationLevel', [
    'disabled',
    'basic',
    'extended',
    'layout',
    'all',
  ]);
  checkOneOf(o.executionMode, 'executionMode', ['sequential', 'parallel']);
  // ortvision reads every output on the CPU: a GPU-resident output would not reach the caller.
  checkOneOf(o.preferredOutputLocation, 'preferredOutputLocation', ['cpu']);
  for (const name of [
    'enableCpuMemArena',
    'enableMemPattern',
    'enableProfiling',
    'enableGraphCapture',
  ] as const) {
    checkType(o[name], name, 'boolean');
  }
  for (const name of ['optimizedModelFilePath', 'profileFilePrefix', 'logId'] as const)
    checkType(o[name], name, 'string');
  checkType(o.extra, 'extra', 'object');
  checkType(o.freeDimensionOverrides, 'freeDimensionOverrides', 'object');
  for (const [dimension, size] of Object.entries(o.freeDimensionOverrides ?? {})) {
    checkInteger(size, `sessionOptions.freeDimensionOverrides.${dimension}`, { min: 1 });
  }
  if (o.executionProviders !== undefined) {
    throw new InvalidArgumentError(
      "sessionOptions.executionProviders is decided by the device option: pass device: 'cpu', 'cuda' or 'auto' (and deviceId) instead",
    );
  }
}
