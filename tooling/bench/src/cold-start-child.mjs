// One cold start, in a fresh process: import the library, load the model, get the first result, then print
// { ms, peakRssMiB } as one JSON line. Plain JavaScript run by plain `node`, so that it measures what users run
// (the built packages and transformers.js's bundle), not a TypeScript loader.
// Usage: node cold-start-child.mjs <ortvision|transformers.js> <task> <modelDir> <image> <sessionOptionsJson>
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const [which, task, modelDir, imagePath, sessionOptionsJson] = process.argv.slice(2);
const sessionOptions = JSON.parse(sessionOptionsJson);
const bytes = readFileSync(imagePath);
const labels = ['a photo of a cat', 'a photo of a remote control'];

async function ortvision() {
  if (task === 'image-classification') {
    const { imageClassification } = await import('@ortvision/vit');
    const classify = await imageClassification(modelDir, { sessionOptions });
    return classify(bytes, { topK: 5 });
  }
  if (task === 'zero-shot-object-detection') {
    const { zeroShotObjectDetection } = await import('@ortvision/owlv2');
    const detect = await zeroShotObjectDetection(modelDir, { sessionOptions });
    return detect(bytes, labels, { threshold: 0.1 });
  }
  throw new Error(`unknown task ${task}`);
}

async function transformersJs() {
  const tjs = await import('@huggingface/transformers');
  // The bench models are stored under their Hub ids: <models>/<org>/<name>.
  tjs.env.allowRemoteModels = false;
  tjs.env.localModelPath = `${dirname(dirname(modelDir))}/`;
  const hubId = `${basename(dirname(modelDir))}/${basename(modelDir)}`;
  const pipe = await tjs.pipeline(task, hubId, {
    device: 'cpu',
    dtype: 'fp32',
    session_options: sessionOptions,
  });
  const image = await tjs.RawImage.fromBlob(new Blob([bytes]));
  return task === 'zero-shot-object-detection'
    ? pipe(image, labels, { threshold: 0.1 })
    : pipe(image, { top_k: 5 });
}

const result = which === 'ortvision' ? await ortvision() : await transformersJs();
if (!Array.isArray(result)) throw new Error('no result');
// performance.now() counts from the process's time origin: node boot + import + load + first result.
const ms = performance.now();
// VmHWM, not maxRSS: Linux keeps maxRSS across fork + exec, so it would report the bench process's RSS.
const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
const peakRssMiB = Math.round(((hwm ? Number(hwm[1]) : process.resourceUsage().maxRSS) / 1024) * 10) / 10;
process.stdout.write(`${JSON.stringify({ ms, peakRssMiB })}\n`);
process.exit(0);
