// The image processor: preprocessor_config.json -> pixel_values for Mask2Former (issue #9 fills this in).
export {};
