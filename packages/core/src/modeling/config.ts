import { ConfigError } from '../errors.js';
import { readJsonObject } from '../hub/read-json.js';
import { type ResolveOptions, resolveModelFiles } from '../hub/resolve.js';
import { loadPretrained } from './load-pretrained.js';

/** A value as JSON holds it. */
export type ConfigValue = null | boolean | number | string | ConfigValue[] | { [key: string]: ConfigValue };

/** The JSON types a config field can be required to have. */
export type ConfigFieldType =
  | 'string'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'object'
  | 'string[]'
  | 'number[]'
  | 'integer[]'
  | 'array';

export interface ConfigField {
  type: ConfigFieldType;
  /** Used when config.json lacks the field (the value transformers' config class defaults to). */
  default?: ConfigValue;
  /** The field may also be null. */
  nullable?: boolean;
}

/** Field name (config.json's snake_case) -> its type and default. */
export type ConfigSchema = Readonly<Record<string, ConfigField>>;

function hasType(value: unknown, type: ConfigFieldType): boolean {
  const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return isObject;
    case 'array':
      return Array.isArray(value);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'number[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
    case 'integer[]':
      return Array.isArray(value) && value.every((v) => Number.isInteger(v));
  }
}

const BASE_SCHEMA: ConfigSchema = {
  model_type: { type: 'string', default: '' },
  architectures: { type: 'string[]', nullable: true },
  id2label: { type: 'object' },
  label2id: { type: 'object' },
};

export type ConfigClass<C extends PretrainedConfig = PretrainedConfig> = {
  new (json: Record<string, unknown>, source?: string): C;
  readonly modelTypes: readonly string[];
  readonly schema: ConfigSchema;
  readonly name: string;
};

export interface ConfigOptions extends ResolveOptions {}

/**
 * A model's config.json, typed by its class's schema. Fields keep config.json's snake_case names; fields the
 * schema does not know are kept as read (`config.raw`, and as properties). Wrong types and a `model_type` the
 * class does not handle throw `ConfigError`.
 *
 * @example
 * class ViTConfig extends PretrainedConfig {
 *   static override modelTypes = ['vit'];
 *   static override schema = { ...PretrainedConfig.schema, image_size: { type: 'integer', default: 224 } } satisfies ConfigSchema;
 *   declare readonly image_size: number;
 * }
 * const config = await ViTConfig.fromPretrained('./vit-local');
 */
export class PretrainedConfig {
  /** The `model_type` values this class handles; empty accepts any. */
  static readonly modelTypes: readonly string[] = [];
  static readonly schema: ConfigSchema = BASE_SCHEMA;

  declare readonly model_type: string;
  declare readonly architectures?: string[] | null;
  declare readonly id2label?: Record<string, string>;
  declare readonly label2id?: Record<string, number>;
  /** Every field as read from config.json, before defaults. */
  readonly raw: Readonly<Record<string, ConfigValue>>;

  constructor(json: Record<string, unknown>, source = 'config.json') {
    const Class = new.target as unknown as ConfigClass;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ConfigError(`${source} must hold a JSON object, got ${JSON.stringify(json)?.slice(0, 60)}`);
    }
    // Another model's config is reported as such first; its fields would otherwise fail this schema confusingly.
    // A sub-config (text_config, vision_config) may leave model_type to its schema's default.
    const modelType = json.model_type ?? Class.schema.model_type?.default ?? '';
    if (Class.modelTypes.length > 0 && !Class.modelTypes.includes(modelType as string)) {
      throw new ConfigError(
        `${source} has model_type ${JSON.stringify(modelType)}, but ${Class.name} handles ${Class.modelTypes.map((t) => JSON.stringify(t)).join(', ')}`,
      );
    }
    this.raw = json as Record<string, ConfigValue>;
    const target = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(json)) {
      // Fields named like our own members (raw, methods) stay reachable through `raw` only.
      if (!(key in target)) target[key] = value;
    }
    for (const [key, field] of Object.entries(Class.schema)) {
      const value = json[key];
      if (value === undefined) {
        if (field.default !== undefined) target[key] = structuredClone(field.default);
        continue;
      }
      if (value === null && field.nullable) continue;
      if (!hasType(value, field.type)) {
        throw new ConfigError(
          `${source}: field ${key} must be ${field.type === 'integer' ? 'an integer' : `of type ${field.type}`}${field.nullable ? ' or null' : ''}, got ${JSON.stringify(value)?.slice(0, 80)}`,
        );
      }
    }
    const label = this.id2label;
    if (label && !Object.values(label).every((name) => typeof name === 'string')) {
      throw new ConfigError(`${source}: id2label must map ids to label strings`);
    }
  }

  /** Reads and validates a config.json file. */
  static async fromFile<C extends PretrainedConfig>(this: ConfigClass<C>, path: string): Promise<C> {
    let json: Record<string, unknown>;
    try {
      json = await readJsonObject(path);
    } catch (error) {
      // A missing or unreadable config.json is a config problem for the caller, whatever the cause.
      throw error instanceof ConfigError
        ? error
        : new ConfigError((error as Error).message, { cause: error });
    }
    return new this(json, path);
  }

  /** The config.json of a model folder or Hub id. */
  static async fromPretrained<C extends PretrainedConfig>(
    this: ConfigClass<C>,
    idOrPath: string,
    options: ConfigOptions = {},
  ): Promise<C> {
    return loadPretrained(`${this.name}.fromPretrained`, idOrPath, options, async (checked) => {
      const { files } = await resolveModelFiles(idOrPath, [{ path: 'config.json', optional: true }], checked);
      const path = files['config.json'];
      if (!path) throw new ConfigError(`${idOrPath} has no config.json`);
      return (PretrainedConfig.fromFile as (this: ConfigClass<C>, path: string) => Promise<C>).call(
        this,
        path,
      );
    });
  }

  /** Number of labels (id2label's size), 0 when the model has none. */
  get numLabels(): number {
    return this.id2label ? Object.keys(this.id2label).length : 0;
  }

  /** The label of a class index, or `LABEL_<index>` as transformers names unlabelled classes. */
  labelOf(index: number): string {
    return this.id2label?.[String(index)] ?? `LABEL_${index}`;
  }
}
