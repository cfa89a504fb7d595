// The post-processing of model outputs for Mask2Former (issue #9 fills this in).
export {};
