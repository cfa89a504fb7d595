// The processor: images and text together (HF's __call__) for LeViT (issue #6 fills this in).
export {};
