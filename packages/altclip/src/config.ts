import { CLIPCompositeConfig, CLIPVisionConfig, type ConfigSchema, PretrainedConfig } from '@ortvision/core';

/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'altclip';

/**
 * transformers' `AltCLIPTextConfig`: the XLM-RoBERTa text tower, every field with the default of the model docs
 * (BAAI/AltCLIP). Positions are RoBERTa's: `pad_token_id + 1 + i`, so a sequence holds at most
 * `max_position_embeddings - pad_token_id - 1` tokens (`maxSequenceLength`).
 *
 * @example
 * ```ts
 * import { AltCLIPConfig } from '@ortvision/altclip';
 * const { text_config } = await AltCLIPConfig.fromPretrained('BAAI/AltCLIP');
 * console.log(text_config.hidden_size, text_config.maxSequenceLength); // 1024 512
 * ```
 */
export class AltCLIPTextConfig extends PretrainedConfig {
  static override readonly modelTypes = ['altclip_text_model'];
  static override readonly schema: ConfigSchema = {
    ...PretrainedConfig.schema,
    model_type: { type: 'string', default: 'altclip_text_model' },
    vocab_size: { type: 'integer', default: 250002 },
    hidden_size: { type: 'integer', default: 1024 },
    num_hidden_layers: { type: 'integer', default: 24 },
    num_attention_heads: { type: 'integer', default: 16 },
    intermediate_size: { type: 'integer', default: 4096 },
    hidden_act: { type: 'string', default: 'gelu' },
    hidden_dropout_prob: { type: 'number', default: 0.1 },
    attention_probs_dropout_prob: { type: 'number', default: 0.1 },
    max_position_embeddings: { type: 'integer', default: 514 },
    type_vocab_size: { type: 'integer', default: 1 },
    initializer_range: { type: 'number', default: 0.02 },
    initializer_factor: { type: 'number', default: 0.02 },
    layer_norm_eps: { type: 'number', default: 1e-5 },
    pad_token_id: { type: 'integer', default: 1, nullable: true },
    bos_token_id: { type: 'integer', default: 0, nullable: true },
    eos_token_id: { type: 'integer', default: 2, nullable: true },
    position_embedding_type: { type: 'string', default: 'absolute' },
    use_cache: { type: 'boolean', default: true },
    project_dim: { type: 'integer', default: 768 },
  };

  declare readonly vocab_size: number;
  declare readonly hidden_size: number;
  declare readonly num_hidden_layers: number;
  declare readonly num_attention_heads: number;
  declare readonly intermediate_size: number;
  declare readonly hidden_act: string;
  declare readonly hidden_dropout_prob: number;
  declare readonly attention_probs_dropout_prob: number;
  declare readonly max_position_embeddings: number;
  declare readonly type_vocab_size: number;
  declare readonly initializer_range: number;
  declare readonly initializer_factor: number;
  declare readonly layer_norm_eps: number;
  declare readonly pad_token_id: number | null;
  declare readonly bos_token_id: number | null;
  declare readonly eos_token_id: number | null;
  declare readonly position_embedding_type: string;
  declare readonly use_cache: boolean;
  declare readonly project_dim: number;

  /**
   * The longest `input_ids` the text tower can embed. Position ids are `pad_token_id + 1, + 2, ...` (RoBERTa), so
   * with 514 positions and pad 1 that is 512 tokens (fixture altclip: 66 positions -> 64 = model_max_length).
   */
  get maxSequenceLength(): number {
    return this.max_position_embeddings - (this.pad_token_id ?? 1) - 1;
  }
}

/**
 * transformers' `AltCLIPVisionConfig`: the CLIP ViT image tower, every field with the default of the model docs.
 *
 * @example
 * ```ts
 * import { AltCLIPConfig } from '@ortvision/altclip';
 * const { vision_config } = await AltCLIPConfig.fromPretrained('BAAI/AltCLIP');
 * console.log(vision_config.image_size, vision_config.patch_size); // 224 14
 * ```
 */
export class AltCLIPVisionConfig extends CLIPVisionConfig {
  static override readonly modelTypes = ['altclip_vision_model'];
  static override readonly schema: ConfigSchema = {
    ...CLIPVisionConfig.schema,
    model_type: { type: 'string', default: 'altclip_vision_model' },
    projection_dim: { type: 'integer', default: 512 },
  };

  declare readonly projection_dim: number;
}

/**
 * transformers' `AltCLIPConfig`: `text_config` and `vision_config` as typed sub-configs (core's
 * `CLIPCompositeConfig`: built from `{}` when config.json lacks them, as transformers does), `projection_dim` (the size of `text_embeds` / `image_embeds`) and
 * `logit_scale_init_value`. The trained `logit_scale` itself is a weight inside `onnx/model.onnx`, not a config
 * field (`AltCLIPModel.logitScale()` reads it from the graph).
 *
 * @example
 * ```ts
 * import { AltCLIPConfig } from '@ortvision/altclip';
 * const config = await AltCLIPConfig.fromPretrained('./altclip-local');
 * console.log(config.projection_dim, config.text_config.vocab_size, config.vision_config.image_size);
 * ```
 */
export class AltCLIPConfig extends CLIPCompositeConfig<AltCLIPTextConfig, AltCLIPVisionConfig> {
  static override readonly modelTypes = [MODEL_TYPE];
  static override readonly textConfigClass = AltCLIPTextConfig;
  static override readonly visionConfigClass = AltCLIPVisionConfig;
  static override readonly schema: ConfigSchema = {
    ...CLIPCompositeConfig.schema,
    projection_dim: { type: 'integer', default: 768 },
  };
}
