import type { AddedTokenJson } from '../added-tokens.js';

/** The parts of a CLIP tokenizer.json the tests read, for typed access to a parsed file. */
export interface ClipJson {
  added_tokens: AddedTokenJson[];
  pre_tokenizer: { pretokenizers: [{ pattern: { Regex: string } }, { use_regex?: boolean }] };
  post_processor: { cls: [string, number]; sep: [string, number] };
  decoder: { use_regex?: boolean };
  model: { unk_token: string; merges: string[]; vocab: Record<string, number>; byte_fallback?: boolean };
}

/** The same tokenizer.json object, typed as a CLIP one. */
export const asClipJson = (json: Record<string, unknown>): ClipJson => json as unknown as ClipJson;
