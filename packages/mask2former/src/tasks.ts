// The task helpers with the Hugging Face pipelines' output shapes for Mask2Former (issue #9 fills this in).
export {};
