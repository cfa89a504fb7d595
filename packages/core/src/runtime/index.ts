export { ModelSession, fromOrtTensor, toOrtTensor } from './session.js';
export type { CreateSessionOptions, NamedTensors } from './session.js';
