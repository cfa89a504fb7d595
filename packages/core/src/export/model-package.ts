import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, InvalidArgumentError, MissingDependencyError } from '../errors.js';
import type { PretrainedConfig } from '../modeling/config.js';
import type { ExportableModelClass } from './export-model.js';

/**
 * What each model package exports as `modelClasses`: its model classes by transformers architecture name (config.json's
 * `architectures`), so that tools in core (the `ortvision` command) can find the class of a model folder without core
 * depending on any model package.
 *
 * @example
 * ```ts
 * export const modelClasses = { ViTModel, ViTForImageClassification } satisfies ModelClassRegistry;
 * ```
 */
export type ModelClassRegistry = Readonly<Record<string, ExportableModelClass>>;

/** A model package found for a config: its name and its registry. */
export interface ModelPackage {
  readonly name: string;
  readonly modelClasses: ModelClassRegistry;
}

/** Imports a package by name as the project in `from` would (its node_modules), else as core itself would. */
async function importFrom(name: string, from: string): Promise<Record<string, unknown>> {
  let resolved: string | undefined;
  try {
    resolved = createRequire(join(from, 'package.json')).resolve(name);
  } catch {
    resolved = undefined;
  }
  return (await import(resolved ? pathToFileURL(resolved).href : name)) as Record<string, unknown>;
}

/**
 * The ortvision package for a config's `model_type`: `@ortvision/<model_type>` (every model package is named after
 * the model type it handles), imported from the project in `from` (default: the current folder). A package that is
 * not installed is a `MissingDependencyError` saying what to install.
 *
 * @example
 * const { name, modelClasses } = await importModelPackage(config); // '@ortvision/levit', { LevitModel, ... }
 */
export async function importModelPackage(
  config: Pick<PretrainedConfig, 'model_type'>,
  from: string = process.cwd(),
): Promise<ModelPackage> {
  const modelType = config.model_type;
  if (typeof modelType !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(modelType)) {
    throw new ConfigError(
      `config.json's model_type ${JSON.stringify(modelType)} names no ortvision package (expected a name like 'vit')`,
    );
  }
  const name = `@ortvision/${modelType}`;
  let exports: Record<string, unknown>;
  try {
    exports = await importFrom(name, from);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingDependencyError(
      `config.json's model_type '${modelType}' is handled by ${name}, which is not installed: npm install ${name}`,
      { cause: error },
    );
  }
  const modelClasses = exports.modelClasses as ModelClassRegistry | undefined;
  if (typeof modelClasses !== 'object' || modelClasses === null) {
    throw new MissingDependencyError(
      `${name} exports no modelClasses registry: it is older than this @ortvision/core; update it`,
    );
  }
  return { name, modelClasses };
}

/**
 * The class of a package to use for a config: `className` when given, else the first of config.json's
 * `architectures` the package has.
 *
 * @example
 * chooseModelClass(levit, config); // LevitForImageClassificationWithTeacher for facebook/levit-256
 */
export function chooseModelClass(
  modelPackage: ModelPackage,
  config: Pick<PretrainedConfig, 'architectures'>,
  className?: string,
): ExportableModelClass {
  const { name, modelClasses } = modelPackage;
  const known = Object.keys(modelClasses).join(', ');
  if (className !== undefined) {
    const chosen = Object.hasOwn(modelClasses, className) ? modelClasses[className] : undefined;
    if (!chosen) throw new InvalidArgumentError(`${name} has no model class ${className} (it has: ${known})`);
    return chosen;
  }
  const architectures = config.architectures ?? [];
  const found = architectures.find((architecture) => Object.hasOwn(modelClasses, architecture));
  if (found === undefined) {
    throw new InvalidArgumentError(
      `config.json's architectures (${architectures.join(', ') || 'none'}) name no class of ${name} (it has: ${known}); name the class to use (ortvision export --class <ModelClass>)`,
    );
  }
  return modelClasses[found]!;
}
