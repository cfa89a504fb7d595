// The processor: images and text together (HF's __call__) for Mask2Former (issue #9 fills this in).
export {};
