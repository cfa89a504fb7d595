// The model classes over the ONNX graphs for ViT (issue #6 fills this in).
export {};
