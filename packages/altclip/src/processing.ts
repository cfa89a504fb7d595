// The processor: images and text together (HF's __call__) for AltCLIP (issue #9 fills this in).
export {};
