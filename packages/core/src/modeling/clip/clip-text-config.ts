import { type ConfigSchema, PretrainedConfig } from '../config.js';

/**
 * The fields of transformers' `CLIPTextConfig` (CLIP's causal text transformer) with the defaults of the model docs
 * (openai/clip-vit-base-patch32's text tower). The CLIP-family packages declare their text towers on it
 * (`CLIPSegTextConfig`, `Owlv2TextConfig`), changing only `model_type` and the defaults that differ.
 *
 * @example
 * ```ts
 * import { CLIPTextConfig, type ConfigSchema } from '@ortvision/core';
 * class MyTextConfig extends CLIPTextConfig {
 *   static override readonly schema: ConfigSchema = {
 *     ...CLIPTextConfig.schema,
 *     model_type: { type: 'string', default: 'my_text_model' },
 *     max_position_embeddings: { type: 'integer', default: 16 },
 *   };
 * }
 * new MyTextConfig({}).max_position_embeddings; // 16
 * ```
 */
export class CLIPTextConfig extends PretrainedConfig {
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    model_type: { type: 'string', default: 'clip_text_model' },
    vocab_size: { type: 'integer', default: 49408 },
    hidden_size: { type: 'integer', default: 512 },
    intermediate_size: { type: 'integer', default: 2048 },
    num_hidden_layers: { type: 'integer', default: 12 },
    num_attention_heads: { type: 'integer', default: 8 },
    max_position_embeddings: { type: 'integer', default: 77 },
    hidden_act: { type: 'string', default: 'quick_gelu' },
    layer_norm_eps: { type: 'number', default: 1e-5 },
    attention_dropout: { type: 'number', default: 0.0 },
    initializer_range: { type: 'number', default: 0.02 },
    initializer_factor: { type: 'number', default: 1.0 },
    pad_token_id: { type: 'integer', default: 1 },
    bos_token_id: { type: 'integer', default: 49406 },
    eos_token_id: { type: 'integer', default: 49407 },
  };

  declare readonly vocab_size: number;
  declare readonly hidden_size: number;
  declare readonly intermediate_size: number;
  declare readonly num_hidden_layers: number;
  declare readonly num_attention_heads: number;
  declare readonly max_position_embeddings: number;
  declare readonly hidden_act: string;
  declare readonly layer_norm_eps: number;
  declare readonly attention_dropout: number;
  declare readonly initializer_range: number;
  declare readonly initializer_factor: number;
  declare readonly pad_token_id: number;
  declare readonly bos_token_id: number;
  declare readonly eos_token_id: number;

  /** The longest `input_ids` row the tower embeds: one token per position (positions start at 0). */
  get maxSequenceLength(): number {
    return this.max_position_embeddings;
  }
}
