// The processor: images and text together (HF's __call__) for CLIPSeg (issue #8 fills this in).
export {};
