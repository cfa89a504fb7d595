// The model classes over the ONNX graphs for Perceiver (issue #7 fills this in).
export {};
