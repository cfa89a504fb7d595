// The model classes over the ONNX graphs for Mask2Former (issue #9 fills this in).
export {};
