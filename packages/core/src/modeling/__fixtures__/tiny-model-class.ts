import { PreTrainedModel } from '../pretrained-model.js';
import { TINY_CHECKPOINT_GRAPHS, TinyConfig } from './tiny-model.js';

/** The tiny model as a model class (apart from tiny-model.ts, which child processes load without ONNX Runtime). */
export class TinyModel extends PreTrainedModel<TinyConfig> {
  static override readonly configClass = TinyConfig;
  static override readonly checkpointGraphs = TINY_CHECKPOINT_GRAPHS;
}
