// The model classes over the ONNX graphs for OWLv2 (issue #8 fills this in).
export {};
