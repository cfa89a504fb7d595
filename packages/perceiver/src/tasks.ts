// The task helpers with the Hugging Face pipelines' output shapes for Perceiver (issue #7 fills this in).
export {};
