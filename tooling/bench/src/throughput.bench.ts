import {
  type ImageClassificationFunction,
  type Pipeline,
  TaskWorkerPool,
  mapInOrder,
  physicalCoreCount,
} from '@ortvision/core';
import { imageClassification } from '@ortvision/vit';
import { benchModel, benchOptions, photos, sessionOptions } from './common.js';
import { type Suite, type SuiteResult, type Variant, compare, round } from './harness.js';

// Many images through ViT-B/16 (the bench graph, real compute) on this machine's cores, one batch of JPEG photos per
// measured run, each photo decoded inside its call: how the cores are best used. ONNX Runtime's session.run holds the
// JavaScript thread that calls it, so sessions in one thread take turns; worker threads (TaskWorkerPool) run at once.
// The variants, side by side:
// - 1 session x all cores, one image at a time: the plain loop, the baseline;
// - 1 session x all cores, `classify.map` with concurrency 2: the next photo is read and decoded (sharp, on libuv's
//   threads) while the current one runs; the JavaScript resize waits for the run;
// - N sessions x 1 thread in one JavaScript thread (N = cores): what "more sessions" gives without threads;
// - the pool: N worker threads x 1 intra-op thread, 2 calls each (decode and preprocess overlapped with the runs);
// - the pool: 1 worker thread x all cores (the main thread stays free; decode overlapped);
// - with 4 cores or more, the pool with 2 workers x cores/2 threads.

const hubId = 'google/vit-base-patch16-224';

interface Contender {
  name: string;
  run(batch: Buffer[]): Promise<unknown>;
  dispose(): Promise<void>;
}

function failOnError(items: { ok: boolean }[]): void {
  const failed = items.filter((item) => !item.ok).length;
  if (failed > 0) throw new Error(`${failed} image(s) failed`);
}

async function contenders(dir: string, cores: number): Promise<Contender[]> {
  const list: Contender[] = [];
  const whole = await imageClassification(dir, { sessionOptions });
  list.push({
    name: `1 session x ${cores} threads, one image at a time`,
    run: async (batch) => {
      for (const photo of batch) await whole(photo, { topK: 5 });
    },
    dispose: async () => {},
  });
  list.push({
    name: `1 session x ${cores} threads, map (concurrency 2: decode overlapped)`,
    run: async (batch) => failOnError(await whole.map(batch, { topK: 5, concurrency: 2 }).toArray()),
    dispose: () => whole.dispose(),
  });
  const single: Pipeline<ImageClassificationFunction>[] = [];
  for (let i = 0; i < cores; i++) {
    single.push(
      await imageClassification(dir, { sessionOptions: { ...sessionOptions, intraOpNumThreads: 1 } }),
    );
  }
  list.push({
    name: `${cores} sessions x 1 thread, in one JavaScript thread`,
    run: async (batch) =>
      failOnError(
        await mapInOrder(batch, (photo, signal, i) => single[i % cores]!(photo, { topK: 5, signal }), {
          concurrency: cores,
        }).toArray(),
      ),
    dispose: async () => {
      for (const pipeline of single) await pipeline.dispose();
    },
  });
  const module = import.meta.resolve('@ortvision/vit');
  const shapes = [
    { workers: cores, threadsPerWorker: 1 },
    { workers: 1, threadsPerWorker: cores },
    ...(cores >= 4 ? [{ workers: 2, threadsPerWorker: Math.floor(cores / 2) }] : []),
  ];
  for (const shape of shapes) {
    const pool = await TaskWorkerPool.create<ImageClassificationFunction>(
      { module, task: 'imageClassification', model: dir, options: { sessionOptions } },
      { ...shape, callsPerWorker: 2 },
    );
    list.push({
      name: `pool: ${shape.workers} worker thread${shape.workers > 1 ? 's' : ''} x ${shape.threadsPerWorker} thread${shape.threadsPerWorker > 1 ? 's' : ''}, 2 calls each (decode overlapped)`,
      run: async (batch) => failOnError(await pool.map(batch, { topK: 5 }).toArray()),
      dispose: () => pool.dispose(),
    });
  }
  return list;
}

export const run: Suite = async ({ quick }) => {
  const cores = physicalCoreCount();
  const dir = benchModel(hubId);
  const available = await photos(quick);
  // Both photos alternate in full mode (decode cost differs 4x between them); the batch is the unit of one run.
  const size = quick ? 4 : 16;
  const batch = Array.from({ length: size }, (_, i) => available[i % available.length]!.bytes);
  const list = await contenders(dir, cores);
  try {
    const variants: Variant[] = list.map(({ name, run }) => ({ name, run: () => run(batch) }));
    const result: SuiteResult = await compare(
      'throughput',
      `ViT-B/16, ${size} JPEG photos (${available.map((p) => p.name).join(' + ')}) per run, ${cores} physical cores`,
      variants,
      benchOptions(quick, { slow: true }),
    );
    result.ratios = Object.fromEntries(
      result.variants.map((variant) => [
        `images/s: ${variant.name}`,
        round((size * 1000) / variant.medianMs),
      ]),
    );
    result.notes = [
      'ms per batch; images/s = photos per batch / median batch time',
      'every pool worker holds its own copy of the model (memory grows with the workers)',
    ];
    return [result];
  } finally {
    for (const contender of list) await contender.dispose();
  }
};
