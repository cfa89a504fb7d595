// The task helpers with the Hugging Face pipelines' output shapes for AltCLIP (issue #9 fills this in).
export {};
