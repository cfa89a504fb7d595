import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type * as ort from 'onnxruntime-node';

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
 * Our defaults (intra-op threads = physical cores, all graph optimizations, warnings and above logged), overlaid
 * by what the caller passes. Execution providers are not taken from here: the device decides them.
 */
export function defaultSessionOptions(
  overrides: ort.InferenceSession.SessionOptions = {},
): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: physicalCoreCount(),
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...overrides,
  };
}
