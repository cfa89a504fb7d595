import type { Checkpoint } from '@ortvision/core';
import { readOnnxModel } from '@ortvision/core/testing';

/** Whether an exported graph holds a checkpoint's weights, and if not, which weight says so. */
export type Provenance =
  | { readonly kind: 'same'; readonly compared: number }
  | { readonly kind: 'other'; readonly reason: string }
  /** Nothing to compare: no initializer is named after a checkpoint weight, or the graph cannot be read. */
  | { readonly kind: 'unknown' };

/** The checkpoint key an initializer of a torch export is named after (`inner.vit.embeddings.cls_token`). */
function keyOf(name: string, keys: ReadonlySet<string>): string | undefined {
  if (keys.has(name)) return name;
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
    const rest = name.slice(dot + 1);
    if (keys.has(rest)) return rest;
  }
  return undefined;
}

/**
 * Whether the exported graph `graphPath` was exported from `checkpoint`: torch.onnx.export names the initializers
 * it keeps as they are (parameters used as they are, e.g. LayerNorm gains, embeddings), under the module path of
 * the exported wrapper (`inner.embeddings.latents` for `embeddings.latents`). Those are compared with the
 * checkpoint's values: equal (within float32 rounding of a re-run), the graph's numbers are the checkpoint's; any
 * that differs means another model was exported (perceiver-base's `model_no_preprocessor.onnx`, exported from a
 * second random model), so a graph built from the checkpoint cannot be expected to give that graph's outputs.
 *
 * @example
 * const provenance = await exportedFrom('fixtures/perceiver-base/onnx/model_no_preprocessor.onnx', checkpoint);
 * // { kind: 'other', reason: "its initializer 'inner.embeddings.latents' is not the checkpoint's 'embeddings.latents' ..." }
 */
export async function exportedFrom(graphPath: string, checkpoint: Checkpoint): Promise<Provenance> {
  let graph: Awaited<ReturnType<typeof readOnnxModel>>;
  try {
    graph = await readOnnxModel(graphPath);
  } catch {
    // A fixture copied without its onnx/, or with a broken graph: the checkpoint is all there is.
    return { kind: 'unknown' };
  }
  const keys = new Set(checkpoint.keys());
  let compared = 0;
  for (const initializer of graph.initializers) {
    const key = keyOf(initializer.name, keys);
    if (key === undefined || initializer.dtype !== 'float32') continue;
    const info = checkpoint.info(key);
    const size = info.shape.reduce((a, b) => a * b, 1);
    if (initializer.dims.reduce((a, b) => a * b, 1) !== size) continue;
    const exported = (await graph.readInitializer(initializer.name)) as Float32Array;
    const stored = (await checkpoint.readFloat32(key)).data;
    let largest = 0;
    let worst = 0;
    for (let i = 0; i < size; i++) {
      largest = Math.max(largest, Math.abs(stored[i]!));
      worst = Math.max(worst, Math.abs(exported[i]! - stored[i]!));
    }
    compared += 1;
    if (worst > 1e-6 * Math.max(1, largest)) {
      return {
        kind: 'other',
        reason: `its initializer '${initializer.name}' is not the checkpoint's '${key}' (max |difference| ${worst.toPrecision(3)}): the graph was exported from other weights`,
      };
    }
  }
  return compared > 0 ? { kind: 'same', compared } : { kind: 'unknown' };
}
