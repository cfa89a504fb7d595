// The post-processing of model outputs for Perceiver (issue #7 fills this in).
export {};
