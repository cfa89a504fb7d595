import type { WeightsShapes } from '@ortvision/core/testing';

// The state dict transformers 4.37's save_pretrained writes for Mask2FormerForUniversalSegmentation with a Swin
// backbone, restated from the module tree of modeling_mask2former.py / modeling_swin.py (not from graph.ts), so
// that describing a graph on it checks the builder against an independent reading. The test checks this
// restatement against the real swin-tiny checkpoint's weights-shapes.json first.

/** The config values that decide the state dict's keys and shapes. */
export interface Mask2FormerShapeConfig {
  readonly embedDim: number;
  readonly depths: readonly number[];
  readonly numHeads: readonly number[];
  readonly windowSize: number;
  readonly mlpRatio?: number;
  readonly numLabels: number;
  readonly numQueries?: number;
  readonly featureSize?: number;
  readonly maskFeatureSize?: number;
  readonly encoderLayers?: number;
  readonly encoderFeedforwardDim?: number;
  readonly decoderLayers?: number;
  readonly dimFeedforward?: number;
  readonly numAttentionHeads?: number;
}

export function mask2formerWeightsShapes(config: Mask2FormerShapeConfig): WeightsShapes {
  const tensors: Record<string, { dtype: string; shape: number[] }> = {};
  const add = (key: string, shape: number[], dtype = 'float32') => {
    tensors[key] = { dtype, shape };
  };
  const linear = (prefix: string, out: number, inFeatures: number, bias = true) => {
    add(`${prefix}.weight`, [out, inFeatures]);
    if (bias) add(`${prefix}.bias`, [out]);
  };
  const norm = (prefix: string, size: number) => {
    add(`${prefix}.weight`, [size]);
    add(`${prefix}.bias`, [size]);
  };
  const F = config.featureSize ?? 256;
  const H = F;
  const heads = config.numAttentionHeads ?? 8;
  const ws = config.windowSize;

  const swin = 'model.pixel_level_module.encoder';
  add(`${swin}.embeddings.patch_embeddings.projection.weight`, [config.embedDim, 3, 4, 4]);
  add(`${swin}.embeddings.patch_embeddings.projection.bias`, [config.embedDim]);
  norm(`${swin}.embeddings.norm`, config.embedDim);
  const channels = config.depths.map((_, i) => config.embedDim * 2 ** i);
  for (const [i, depth] of config.depths.entries()) {
    const d = channels[i]!;
    const inner = Math.floor((config.mlpRatio ?? 4) * d);
    for (let b = 0; b < depth; b++) {
      const block = `${swin}.encoder.layers.${i}.blocks.${b}`;
      norm(`${block}.layernorm_before`, d);
      add(`${block}.attention.self.relative_position_bias_table`, [(2 * ws - 1) ** 2, config.numHeads[i]!]);
      add(`${block}.attention.self.relative_position_index`, [ws * ws, ws * ws], 'int64');
      for (const p of ['query', 'key', 'value']) linear(`${block}.attention.self.${p}`, d, d);
      linear(`${block}.attention.output.dense`, d, d);
      norm(`${block}.layernorm_after`, d);
      linear(`${block}.intermediate.dense`, inner, d);
      linear(`${block}.output.dense`, d, inner);
    }
    if (i < config.depths.length - 1) {
      add(`${swin}.encoder.layers.${i}.downsample.reduction.weight`, [2 * d, 4 * d]);
      norm(`${swin}.encoder.layers.${i}.downsample.norm`, 4 * d);
    }
  }
  for (const [i, d] of channels.entries()) norm(`${swin}.hidden_states_norms.stage${i + 1}`, d);

  const pixel = 'model.pixel_level_module.decoder';
  add(`${pixel}.level_embed`, [3, F]);
  for (const [l, c] of channels.slice(-3).reverse().entries()) {
    add(`${pixel}.input_projections.${l}.0.weight`, [F, c, 1, 1]);
    add(`${pixel}.input_projections.${l}.0.bias`, [F]);
    norm(`${pixel}.input_projections.${l}.1`, F);
  }
  const ff = config.encoderFeedforwardDim ?? 1024;
  for (let i = 0; i < (config.encoderLayers ?? 6); i++) {
    const layer = `${pixel}.encoder.layers.${i}`;
    linear(`${layer}.self_attn.sampling_offsets`, heads * 3 * 4 * 2, F);
    linear(`${layer}.self_attn.attention_weights`, heads * 3 * 4, F);
    linear(`${layer}.self_attn.value_proj`, F, F);
    linear(`${layer}.self_attn.output_proj`, F, F);
    norm(`${layer}.self_attn_layer_norm`, F);
    linear(`${layer}.fc1`, ff, F);
    linear(`${layer}.fc2`, F, ff);
    norm(`${layer}.final_layer_norm`, F);
  }
  const maskDim = config.maskFeatureSize ?? 256;
  add(`${pixel}.mask_projection.weight`, [maskDim, F, 1, 1]);
  add(`${pixel}.mask_projection.bias`, [maskDim]);
  add(`${pixel}.adapter_1.0.weight`, [F, channels[0]!, 1, 1]);
  norm(`${pixel}.adapter_1.1`, F);
  add(`${pixel}.layer_1.0.weight`, [F, F, 3, 3]);
  norm(`${pixel}.layer_1.1`, F);

  const transformer = 'model.transformer_module';
  const queries = config.numQueries ?? 100;
  add(`${transformer}.queries_embedder.weight`, [queries, H]);
  add(`${transformer}.queries_features.weight`, [queries, H]);
  const dff = config.dimFeedforward ?? 2048;
  for (let i = 0; i < (config.decoderLayers ?? 10) - 1; i++) {
    const layer = `${transformer}.decoder.layers.${i}`;
    for (const p of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) linear(`${layer}.self_attn.${p}`, H, H);
    norm(`${layer}.self_attn_layer_norm`, H);
    add(`${layer}.cross_attn.in_proj_weight`, [3 * H, H]);
    add(`${layer}.cross_attn.in_proj_bias`, [3 * H]);
    linear(`${layer}.cross_attn.out_proj`, H, H);
    norm(`${layer}.cross_attn_layer_norm`, H);
    linear(`${layer}.fc1`, dff, H);
    linear(`${layer}.fc2`, H, dff);
    norm(`${layer}.final_layer_norm`, H);
  }
  norm(`${transformer}.decoder.layernorm`, H);
  for (let i = 0; i < 3; i++) {
    linear(`${transformer}.decoder.mask_predictor.mask_embedder.${i}.0`, i < 2 ? H : maskDim, H);
  }
  add(`${transformer}.level_embed.weight`, [3, H]);
  linear('class_predictor', config.numLabels + 1, H);
  add('criterion.empty_weight', [config.numLabels + 1]);
  return { class: 'Mask2FormerForUniversalSegmentation', tensors };
}

/** A config.json for the shape config, as the Hub's configs write it (the fields that matter here). */
export function mask2formerConfigJson(config: Mask2FormerShapeConfig): Record<string, unknown> {
  return {
    model_type: 'mask2former',
    backbone_config: {
      model_type: 'swin',
      embed_dim: config.embedDim,
      depths: config.depths,
      num_heads: config.numHeads,
      window_size: config.windowSize,
      image_size: config.windowSize === 12 ? 384 : 224,
      drop_path_rate: 0.3,
      out_features: ['stage1', 'stage2', 'stage3', 'stage4'],
      out_indices: [1, 2, 3, 4],
    },
    num_queries: config.numQueries ?? 100,
    id2label: Object.fromEntries(
      Array.from({ length: config.numLabels }, (_, i) => [String(i), `label ${i}`]),
    ),
  };
}
