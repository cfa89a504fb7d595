import { abortable } from '../abort.js';
import { checkOptions } from '../validation/option-names.js';
import { RESOLVE_OPTIONS, type ResolveOptions } from './resolve.js';

/**
 * The shared frame of every `fromPretrained` that only reads files (configs, image processors, tokenizers,
 * processors): the options are checked against `ResolveOptions` (an unknown key names the closest valid one), then
 * `load` runs as one abortable step (`signal` -> `AbortedError` naming `where` and the model).
 *
 * @example
 * static fromPretrained(idOrPath: string, options?: ResolveOptions) {
 *   return loadPretrained('MyProcessor.fromPretrained', idOrPath, options, (o) => readPreprocessorConfig(idOrPath, o));
 * }
 */
export function loadPretrained<T>(
  where: string,
  idOrPath: string,
  options: ResolveOptions | undefined,
  load: (options: ResolveOptions) => Promise<T>,
): Promise<T> {
  const checked = checkOptions(options, RESOLVE_OPTIONS, where);
  return abortable(checked.signal, `${where}(${JSON.stringify(idOrPath)})`, () => load(checked));
}
