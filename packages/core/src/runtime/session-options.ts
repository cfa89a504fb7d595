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
 * Our defaults, overlaid by what the caller passes (execution providers are not taken from here: the device
 * decides them):
 * - intra-op threads = physical cores: one thread measured 1.63x slower on ViT-B/16 (2-core machine);
 * - graph optimization 'extended' rather than 'all': on this project's full-size graphs, 'extended' ran
 *   session.run at 0.86x the time of 'all' for ViT-B/16, 0.93x for LeViT-256, 0.99x for CLIPSeg-rd64 and 1.00x for
 *   Perceiver (interleaved medians, tooling/bench `session-options` and a side-by-side run); 'all' adds layout
 *   transformations that cost more than they save on these transformer graphs;
 * - memory arena left on (turning it off changed nothing measurable);
 * - warnings and above logged.
 */
export function defaultSessionOptions(
  overrides: ort.InferenceSession.SessionOptions = {},
): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: physicalCoreCount(),
    graphOptimizationLevel: 'extended',
    logSeverityLevel: 3,
    ...overrides,
  };
}
