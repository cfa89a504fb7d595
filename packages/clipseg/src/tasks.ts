// The task helpers with the Hugging Face pipelines' output shapes for CLIPSeg (issue #8 fills this in).
export {};
