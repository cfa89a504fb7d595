// The image processor: preprocessor_config.json -> pixel_values for Perceiver (issue #7 fills this in).
export {};
