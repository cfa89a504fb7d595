// The public surface of @ortvision/core. Each area has its own index; test utilities live in
// '@ortvision/core/testing' so that they never load in users' programs.
export * from './errors.js';
export * from './abort.js';
export * from './validation/index.js';
export * from './tensor/index.js';
export * from './image/index.js';
export * from './text/index.js';
export * from './hub/index.js';
export * from './runtime/index.js';
export * from './modeling/index.js';
export * from './post-processing/index.js';
export * from './checkpoint/index.js';
export * from './onnx/index.js';
