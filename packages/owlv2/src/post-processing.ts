// The post-processing of model outputs for OWLv2 (issue #8 fills this in).
export {};
