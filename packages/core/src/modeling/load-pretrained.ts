import { abortable } from '../abort.js';
import { RESOLVE_OPTIONS, type ResolveOptions } from '../hub/resolve.js';
import { checkOptions, pickOptions } from '../validation/option-names.js';
import { PRETRAINED_OPTIONS } from './pretrained-options.js';

/**
 * The shared frame of every `fromPretrained` that only reads files (configs, image processors, tokenizers,
 * processors). Its options are checked against the loading options (`PretrainedOptions`: one options object can
 * go to every loader of a model, as Python's `from_pretrained(**kwargs)` takes them) so that a misspelled key names
 * the closest valid one; the Hub options among them reach `load`, which runs as one abortable step (`signal` ->
 * `AbortedError` naming `where` and the model).
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
  const checked = pickOptions<ResolveOptions>(
    checkOptions(options, PRETRAINED_OPTIONS, where),
    RESOLVE_OPTIONS,
  );
  return abortable(checked.signal, `${where}(${JSON.stringify(idOrPath)})`, () => load(checked));
}
