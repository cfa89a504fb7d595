// The post-processing of model outputs for AltCLIP (issue #9 fills this in).
export {};
