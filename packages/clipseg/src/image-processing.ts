// The image processor: preprocessor_config.json -> pixel_values for CLIPSeg (issue #8 fills this in).
export {};
