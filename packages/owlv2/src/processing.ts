// The processor: images and text together (HF's __call__) for OWLv2 (issue #8 fills this in).
export {};
