// The post-processing of model outputs for LeViT (issue #6 fills this in).
export {};
