// The post-processing of model outputs for ViT (issue #6 fills this in).
export {};
