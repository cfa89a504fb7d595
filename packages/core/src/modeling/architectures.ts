import { abortable } from '../abort.js';
import { RESOLVE_OPTIONS, type ResolveOptions } from '../hub/resolve.js';
import { pickOptions } from '../validation/option-names.js';
import type { PretrainedConfig } from './config.js';
import { PreTrainedModel, type PreTrainedModelClass, type PretrainedOptions } from './pretrained-model.js';

/**
 * Loads the model class that config.json's `architectures` names, among `classes` (the first it names), or
 * `classes[fallback]` when it names none of them: what a task helper does when one task has several heads
 * (LeViT with or without teacher, Perceiver's three image classifiers).
 *
 * @example
 * const model = await fromPretrainedByArchitecture('./levit', {}, {
 *   LevitForImageClassification, LevitForImageClassificationWithTeacher,
 * }, 'LevitForImageClassification');
 */
export async function fromPretrainedByArchitecture<M extends PreTrainedModel>(
  idOrPath: string,
  options: PretrainedOptions,
  classes: Readonly<Record<string, PreTrainedModelClass<M>>>,
  fallback: keyof typeof classes & string,
): Promise<M> {
  const configClass = classes[fallback]!.configClass as unknown as typeof PretrainedConfig;
  const config = await abortable(options.signal, `reading the architectures of ${idOrPath}`, () =>
    configClass.fromPretrained(idOrPath, pickOptions<ResolveOptions>(options, RESOLVE_OPTIONS)),
  );
  const name = (config.architectures ?? []).find((architecture) => Object.hasOwn(classes, architecture));
  const ModelClass = classes[name ?? fallback]!;
  return (PreTrainedModel.fromPretrained<M>).call(ModelClass, idOrPath, options);
}
