// The model classes over the ONNX graphs for LeViT (issue #6 fills this in).
export {};
