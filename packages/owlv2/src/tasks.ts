// The task helpers with the Hugging Face pipelines' output shapes for OWLv2 (issue #8 fills this in).
export {};
