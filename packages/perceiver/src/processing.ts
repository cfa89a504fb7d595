// The processor: images and text together (HF's __call__) for Perceiver (issue #7 fills this in).
export {};
