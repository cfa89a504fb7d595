// The image processor: preprocessor_config.json -> pixel_values for OWLv2 (issue #8 fills this in).
export {};
