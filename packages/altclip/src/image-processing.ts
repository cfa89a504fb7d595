// The image processor: preprocessor_config.json -> pixel_values for AltCLIP (issue #9 fills this in).
export {};
