// The post-processing of model outputs for CLIPSeg (issue #8 fills this in).
export {};
