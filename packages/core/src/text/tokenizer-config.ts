import { ConfigError } from '../errors.js';

export type Side = 'left' | 'right';

/** The special tokens transformers' tokenizers know by role, as they appear in the config files. */
export const specialTokenRoles = [
  'bos_token',
  'eos_token',
  'unk_token',
  'sep_token',
  'pad_token',
  'cls_token',
  'mask_token',
] as const;
export type SpecialTokenRole = (typeof specialTokenRoles)[number];

/** What transformers reads from tokenizer_config.json and special_tokens_map.json beside tokenizer.json. */
export interface TokenizerSettings {
  /** `tokenizer_class` as saved (always the slow class name, e.g. `CLIPTokenizer`), if present. */
  tokenizerClass: string | undefined;
  /** `model_max_length`; `Infinity` when absent or transformers' "no limit" placeholder (int(1e30)). */
  modelMaxLength: number;
  paddingSide: Side;
  truncationSide: Side;
  cleanUpTokenizationSpaces: boolean;
  /** The text of each special token by role; a role the tokenizer does not have is absent. */
  specialTokens: Partial<Record<SpecialTokenRole, string>>;
}

// transformers treats any model_max_length above LARGE_INTEGER (int(1e20)) as "no limit": its default is
// VERY_LARGE_INTEGER = int(1e30), which tokenizer_config.json stores as 1000000000000000019884624838656.
const LARGE_INTEGER = 1e20;

type Json = Record<string, unknown>;

function describe(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 80) ?? String(value);
}

/** The switches of a tokenizers `AddedToken`, as tokenizer.json's `added_tokens` and the config files spell them. */
export interface AddedTokenFlags {
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}
const addedTokenFlagNames = ['single_word', 'lstrip', 'rstrip', 'normalized', 'special'] as const;

/** A token as the config files save it: its text and the AddedToken switches the file sets (others absent). */
export interface SavedToken {
  content: string;
  flags: Partial<AddedTokenFlags>;
}

/**
 * A token is saved as a string or as an AddedToken object `{ content, lstrip, normalized, ... }`; null or absent
 * means none.
 */
export function savedToken(value: unknown, where: string): SavedToken | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { content: value, flags: {} };
  if (typeof value !== 'object' || typeof (value as Json).content !== 'string') {
    throw new ConfigError(
      `${where} must be a string or an object with a "content" string, got ${describe(value)}`,
    );
  }
  const flags: Partial<AddedTokenFlags> = {};
  for (const name of addedTokenFlagNames) {
    const flag = (value as Json)[name];
    if (flag === undefined || flag === null) continue;
    if (typeof flag !== 'boolean') {
      throw new ConfigError(`${where}: ${name} must be a boolean, got ${describe(flag)}`);
    }
    flags[name] = flag;
  }
  return { content: (value as Json).content as string, flags };
}

function side(config: Json, key: string, source: string): Side {
  const value = config[key] ?? 'right';
  if (value !== 'left' && value !== 'right') {
    throw new ConfigError(`${source}: ${key} must be "left" or "right", got ${describe(value)}`);
  }
  return value;
}

function modelMaxLength(config: Json, source: string): number {
  const value = config.model_max_length;
  if (value === undefined || value === null) return Number.POSITIVE_INFINITY;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${source}: model_max_length must be a positive integer, got ${describe(value)}`);
  }
  return value > LARGE_INTEGER ? Number.POSITIVE_INFINITY : value;
}

/**
 * The saved value of a special token (`bos_token`, ..., or `additional_special_tokens`) and the file it came from:
 * special_tokens_map.json when it names the role, else tokenizer_config.json. `value` is undefined when neither
 * names it, `null` when the file sets it to none.
 */
export function specialTokenEntry(
  tokenizerConfig: Json,
  specialTokensMap: Json,
  role: SpecialTokenRole | 'additional_special_tokens',
  source = 'tokenizer_config.json',
): { value: unknown; where: string } {
  return role in specialTokensMap
    ? { value: specialTokensMap[role], where: `special_tokens_map.json: ${role}` }
    : { value: tokenizerConfig[role], where: `${source}: ${role}` };
}

/**
 * Reads the settings transformers takes from tokenizer_config.json and special_tokens_map.json. Where both name a
 * special token, special_tokens_map.json wins, as in transformers' `from_pretrained` (it overwrites the init
 * kwargs read from tokenizer_config.json).
 */
export function parseTokenizerSettings(
  tokenizerConfig: Json,
  specialTokensMap: Json,
  source = 'tokenizer_config.json',
): TokenizerSettings {
  const tokenizerClass = tokenizerConfig.tokenizer_class;
  if (tokenizerClass !== undefined && tokenizerClass !== null && typeof tokenizerClass !== 'string') {
    throw new ConfigError(`${source}: tokenizer_class must be a string, got ${describe(tokenizerClass)}`);
  }
  const cleanUp = tokenizerConfig.clean_up_tokenization_spaces ?? true;
  if (typeof cleanUp !== 'boolean') {
    throw new ConfigError(
      `${source}: clean_up_tokenization_spaces must be a boolean, got ${describe(cleanUp)}`,
    );
  }
  const specialTokens: Partial<Record<SpecialTokenRole, string>> = {};
  for (const role of specialTokenRoles) {
    const { value, where } = specialTokenEntry(tokenizerConfig, specialTokensMap, role, source);
    const content = savedToken(value, where)?.content;
    if (content !== undefined) specialTokens[role] = content;
  }
  return {
    tokenizerClass: tokenizerClass ?? undefined,
    modelMaxLength: modelMaxLength(tokenizerConfig, source),
    paddingSide: side(tokenizerConfig, 'padding_side', source),
    truncationSide: side(tokenizerConfig, 'truncation_side', source),
    cleanUpTokenizationSpaces: cleanUp,
    specialTokens,
  };
}
