// The image processor: preprocessor_config.json -> pixel_values for ViT (issue #6 fills this in).
export {};
