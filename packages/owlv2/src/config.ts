/** The `model_type` of config.json that this package handles. */
export const MODEL_TYPE = 'owlv2';
