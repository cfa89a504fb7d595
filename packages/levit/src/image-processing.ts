// The image processor: preprocessor_config.json -> pixel_values for LeViT (issue #6 fills this in).
export {};
