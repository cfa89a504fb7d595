import { ViTImageProcessor } from '@ortvision/vit';
import * as ort from 'onnxruntime-node';
import { benchModel, benchOptions, photos, sessionOptions } from './common.js';
import { type Suite, type Variant, compare } from './harness.js';

// The measurements behind ortvision's default session options, on ViT-B/16: intra-op threads 1 vs 2 (this
// machine's cores) and graph optimization 'extended' (the default) vs 'all', plus the CPU memory arena on and off. Each variant
// is a plain session.run on the same ready tensor, interleaved; the first row is the default.

const hubId = 'google/vit-base-patch16-224';

const alternatives: { name: string; options: ort.InferenceSession.SessionOptions }[] = [
  { name: `default (${describe(sessionOptions)})`, options: sessionOptions },
  { name: 'intraOpNumThreads 1', options: { ...sessionOptions, intraOpNumThreads: 1 } },
  {
    name: "graphOptimizationLevel 'all' (ONNX Runtime's default)",
    options: { ...sessionOptions, graphOptimizationLevel: 'all' },
  },
  { name: 'enableCpuMemArena false', options: { ...sessionOptions, enableCpuMemArena: false } },
];

function describe(options: ort.InferenceSession.SessionOptions): string {
  const { intraOpNumThreads, graphOptimizationLevel, enableCpuMemArena } = options;
  return `threads ${intraOpNumThreads ?? 'ORT default'}, ${graphOptimizationLevel ?? 'ORT default'}, arena ${enableCpuMemArena ?? true}`;
}

export const run: Suite = async ({ quick }) => {
  const dir = benchModel(hubId);
  const processor = await ViTImageProcessor.fromPretrained(dir);
  const [photo] = await photos(true);
  const { pixel_values } = await processor.preprocess(photo!.bytes);
  const ready = new ort.Tensor('float32', pixel_values.data, pixel_values.dims);
  const sessions: ort.InferenceSession[] = [];
  try {
    const variants: Variant[] = [];
    for (const { name, options } of alternatives) {
      const session = await ort.InferenceSession.create(`${dir}/onnx/model.onnx`, options);
      sessions.push(session);
      variants.push({ name, run: () => session.run({ pixel_values: ready }) });
    }
    const result = await compare('session-options', 'ViT-B/16 session.run by session options', variants, {
      ...benchOptions(quick),
      ...(quick ? {} : { iterations: 15 }),
    });
    result.notes = ['a shared machine makes 2 threads look worse than they are: compare on a quiet one'];
    return [result];
  } finally {
    for (const session of sessions) await session.release();
  }
};
