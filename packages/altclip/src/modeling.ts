// The model classes over the ONNX graphs for AltCLIP (issue #9 fills this in).
export {};
