import { abortable } from '../abort.js';
import { RESOLVE_OPTIONS, type ResolveOptions, resolveModelFiles } from '../hub/resolve.js';
import { type CreateSessionOptions, ModelSession } from '../runtime/session.js';
import { checkOptions, optionNames, pickOptions } from '../validation/option-names.js';

export interface LoadGraphOptions extends ResolveOptions, Omit<CreateSessionOptions, 'probes'> {}

const LOAD_GRAPH_OPTIONS = [
  ...RESOLVE_OPTIONS,
  ...optionNames<Omit<LoadGraphOptions, keyof ResolveOptions>>({
    device: true,
    deviceId: true,
    sessionOptions: true,
  }),
];

/**
 * Loads one ONNX graph of a model folder or Hub id by its path in the repository (e.g. `onnx/model.onnx`) and
 * returns its session: `run(feeds)` checks the feeds against the graph and returns named Tensors. This is what
 * model classes use underneath, for code that needs a graph without a model class (the conformance runner).
 *
 * @example
 * const graph = await loadGraph('./vit-local', 'onnx/model.onnx', { device: 'auto' });
 * const { logits } = await graph.run({ pixel_values });
 * await graph.dispose();
 */
export async function loadGraph(
  idOrPath: string,
  file: string,
  options: LoadGraphOptions = {},
): Promise<ModelSession> {
  checkOptions(options, LOAD_GRAPH_OPTIONS, 'loadGraph');
  const { files } = await abortable(options.signal, `loadGraph(${JSON.stringify(idOrPath)}, '${file}')`, () =>
    resolveModelFiles(idOrPath, [file], pickOptions<ResolveOptions>(options, RESOLVE_OPTIONS)),
  );
  return ModelSession.create(files[file]!, {
    device: options.device,
    deviceId: options.deviceId,
    sessionOptions: options.sessionOptions,
  });
}
