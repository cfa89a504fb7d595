// The model classes over the ONNX graphs for CLIPSeg (issue #8 fills this in).
export {};
