import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OnnxGraph } from '../onnx/graph.js';
import { type WriteOnnxModelOptions, writeOnnxModel } from '../onnx/write-model.js';
import { ModelSession, type NamedTensors } from '../runtime/session.js';

/**
 * Writes a built graph to a temporary folder, runs it once through ONNX Runtime (ortvision's session defaults)
 * and removes the folder: for tests of layers and graph builders.
 *
 * @example
 * ```ts
 * const { y } = await runOnnxGraph(graph, { x: new Tensor('float32', new Float32Array(4), [1, 4]) });
 * ```
 */
export async function runOnnxGraph(
  graph: OnnxGraph,
  feeds: NamedTensors,
  options: WriteOnnxModelOptions = {},
): Promise<NamedTensors> {
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-graph-'));
  try {
    const { path } = await writeOnnxModel(graph, join(dir, 'model.onnx'), options);
    const session = await ModelSession.create(path);
    try {
      return await session.run(feeds);
    } finally {
      await session.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
