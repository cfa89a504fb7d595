import { ConfigError } from '../errors.js';
import {
  type AddedTokenFlags,
  type SpecialTokenRole,
  savedToken,
  specialTokenEntry,
  specialTokenRoles,
} from './tokenizer-config.js';

type Json = Record<string, unknown>;

/** One entry of tokenizer.json's `added_tokens`. */
export interface AddedTokenJson extends AddedTokenFlags {
  id: number;
  content: string;
}

/** What a slow tokenizer class contributes to its added tokens. */
export interface SpecialTokenDefaults {
  /** The special tokens the class's constructor defaults to when the config files do not name them. */
  tokens: Partial<Record<SpecialTokenRole, string>>;
  /** AddedToken switches the class's constructor sets on a special token saved as a plain string. */
  flags: Partial<Record<SpecialTokenRole, Partial<AddedTokenFlags>>>;
}

export interface AddedTokensInput {
  /** The config files, and the model folder or Hub id they came from (for messages). */
  configs: { tokenizerConfig: Json; specialTokensMap: Json; source: string };
  /** The id the model's own vocabulary gives a token, if it has one. */
  vocabularyId: (content: string) => number | undefined;
  /** Size of the model's vocabulary: tokens it lacks get ids from here on. */
  vocabularySize: number;
  defaults: SpecialTokenDefaults;
}

interface PendingToken {
  content: string;
  /** The switches it was saved with; the others take tokenizers' defaults. */
  saved: Partial<AddedTokenFlags>;
  special: boolean;
  /** The id added_tokens_decoder saved for it. */
  savedId: number | undefined;
}

function tokenFlags(saved: Partial<AddedTokenFlags>, special: boolean): AddedTokenFlags {
  // tokenizers' AddedToken: a switch left unset is false, except `normalized`, which defaults to !special
  return {
    single_word: saved.single_word ?? false,
    lstrip: saved.lstrip ?? false,
    rstrip: saved.rstrip ?? false,
    normalized: saved.normalized ?? !special,
    special,
  };
}

/** tokenizer_config.json's `added_tokens_decoder` (`{ "<id>": AddedToken }`), in id order. */
function savedAddedTokens(tokenizerConfig: Json, source: string): PendingToken[] {
  const decoder = tokenizerConfig.added_tokens_decoder;
  if (decoder === undefined || decoder === null) return [];
  if (typeof decoder !== 'object' || Array.isArray(decoder)) {
    throw new ConfigError(`${source}: added_tokens_decoder must be an object of id -> token`);
  }
  return Object.entries(decoder as Json)
    .map(([key, value]) => {
      const where = `${source}: added_tokens_decoder["${key}"]`;
      const id = Number(key);
      if (!/^\d+$/.test(key) || !Number.isSafeInteger(id)) {
        throw new ConfigError(`${where}: the key must be a token id (a non-negative integer)`);
      }
      const token = savedToken(value, where);
      if (token === undefined) throw new ConfigError(`${where} is null; expected an AddedToken object`);
      return {
        content: token.content,
        saved: token.flags,
        special: token.flags.special ?? false,
        savedId: id,
      };
    })
    .sort((a, b) => a.savedId - b.savedId);
}

/** The special tokens by role, then `additional_special_tokens`, as the config files or the class name them. */
function specialTokens(
  input: AddedTokensInput,
  source: string,
): { value: unknown; where: string; role?: SpecialTokenRole }[] {
  const { tokenizerConfig, specialTokensMap } = input.configs;
  const { defaults } = input;
  const entries: { value: unknown; where: string; role?: SpecialTokenRole }[] = specialTokenRoles.map(
    (role) => {
      const entry = specialTokenEntry(tokenizerConfig, specialTokensMap, role, source);
      // absent: the class's default; null: the files say the tokenizer has none
      return { ...entry, value: entry.value === undefined ? defaults.tokens[role] : entry.value, role };
    },
  );
  const additional = specialTokenEntry(
    tokenizerConfig,
    specialTokensMap,
    'additional_special_tokens',
    source,
  );
  if (additional.value !== undefined && additional.value !== null) {
    if (!Array.isArray(additional.value)) {
      throw new ConfigError(`${additional.where} must be a list of tokens, got ${typeof additional.value}`);
    }
    additional.value.forEach((value, i) => entries.push({ value, where: `${additional.where}[${i}]` }));
  }
  return entries;
}

/**
 * tokenizer.json's `added_tokens` for a tokenizer built from its slow files, as transformers' fast tokenizer
 * registers them: the tokens of tokenizer_config.json's `added_tokens_decoder` (those named as special tokens
 * become special), then every special token not among them (bos, eos, unk, sep, pad, cls, mask, then
 * `additional_special_tokens`) with the switches it is saved with. A special token saved as a plain string gets
 * the switches the slow class's constructor gives it (`defaults.flags`); the slow tokenizer is the reference the
 * fixtures were made with. A token the vocabulary holds keeps its vocabulary id (OWLv2's pad token "!" is id 0 and
 * becomes special, so "!" in a text is split off as its own token, as in transformers); others get the saved id or
 * the next free one past the vocabulary.
 *
 * @example
 * ```ts
 * addedTokensFromConfig({
 *   configs: { tokenizerConfig: { bos_token: '<s>' }, specialTokensMap: {}, source: './model' },
 *   vocabularyId: (t) => ({ '<s>': 0 })[t], vocabularySize: 10, defaults: { tokens: {}, flags: {} },
 * }); // [{ id: 0, content: '<s>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]
 * ```
 */
export function addedTokensFromConfig(input: AddedTokensInput): AddedTokenJson[] {
  const source = `${input.configs.source}/tokenizer_config.json`;
  const pending = new Map<string, PendingToken>();
  for (const token of savedAddedTokens(input.configs.tokenizerConfig, source))
    pending.set(token.content, token);
  for (const { value, where, role } of specialTokens(input, source)) {
    const token = savedToken(value, where);
    if (token === undefined) continue;
    const existing = pending.get(token.content);
    if (existing) {
      existing.special = true;
      continue;
    }
    const saved = typeof value === 'string' && role ? (input.defaults.flags[role] ?? {}) : token.flags;
    pending.set(token.content, { content: token.content, saved, special: true, savedId: undefined });
  }
  return assignIds([...pending.values()], input, source);
}

function assignIds(tokens: PendingToken[], input: AddedTokensInput, source: string): AddedTokenJson[] {
  const used = new Set<number>();
  const withIds = tokens.map((token) => {
    const vocabularyId = input.vocabularyId(token.content);
    if (vocabularyId !== undefined && token.savedId !== undefined && vocabularyId !== token.savedId) {
      throw new ConfigError(
        `${source}: added_tokens_decoder gives ${JSON.stringify(token.content)} id ${token.savedId}, but the vocabulary has it at id ${vocabularyId}`,
      );
    }
    if (vocabularyId === undefined && token.savedId !== undefined && token.savedId < input.vocabularySize) {
      throw new ConfigError(
        `${source}: added_tokens_decoder gives ${JSON.stringify(token.content)} id ${token.savedId}, which the vocabulary uses for another token`,
      );
    }
    const id = vocabularyId ?? token.savedId;
    if (id !== undefined) {
      if (used.has(id)) {
        throw new ConfigError(`${source}: two added tokens have id ${id}`);
      }
      used.add(id);
    }
    return { token, id };
  });
  let next = input.vocabularySize;
  return withIds
    .map(({ token, id }) => {
      let tokenId = id;
      if (tokenId === undefined) {
        while (used.has(next)) next++;
        tokenId = next;
        used.add(next);
      }
      return { id: tokenId, content: token.content, ...tokenFlags(token.saved, token.special) };
    })
    .sort((a, b) => a.id - b.id);
}
