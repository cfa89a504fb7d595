/**
 * One small program per model package, run in the install folder the way a user would run it: it imports only
 * the installed packages, reads the fixture model copied to `./model` and images from `./images`, and prints one
 * JSON line. `compare` turns that line into problems against the fixture's pipeline case (`./model/reference`).
 */
export interface SmokeTest {
  /** Folder under packages/. */
  dir: string;
  /** Fixture folder under fixtures/ that the program runs. */
  fixture: string;
  /** The pipeline case of the fixture's manifest whose expected output the program reproduces. */
  pipelineCase: string;
  /** Reads text, so the install must hold @huggingface/tokenizers. */
  text: boolean;
  /** An ES module's source. */
  program: string;
  /** Fields of each expected item compared: strings exactly, numbers within the case's atol. */
  fields?: readonly string[];
}

const project = (entries: string) => `.map((r) => ({ ${entries} }))`;

export const SMOKE_TESTS: readonly SmokeTest[] = [
  {
    dir: 'vit',
    fixture: 'vit-cls',
    pipelineCase: 'classify-cats',
    text: false,
    program: `import { imageClassification } from '@ortvision/vit';
const classify = await imageClassification('./model');
console.log(JSON.stringify(await classify('./images/cats.png', { topK: 3 })));
await classify.dispose();`,
    fields: ['label', 'score'],
  },
  {
    dir: 'levit',
    fixture: 'levit-cls',
    pipelineCase: 'classify-cats',
    text: false,
    program: `import { imageClassification } from '@ortvision/levit';
const classify = await imageClassification('./model');
console.log(JSON.stringify(await classify('./images/cats.png', { topK: 3 })));
await classify.dispose();`,
    fields: ['label', 'score'],
  },
  {
    dir: 'perceiver',
    fixture: 'perceiver-mlm',
    pipelineCase: 'fill-mask-single',
    // Perceiver reads UTF-8 bytes with its own tokenizer: this proves it runs without @huggingface/tokenizers.
    text: false,
    program: `import { fillMask } from '@ortvision/perceiver';
const fill = await fillMask('./model');
console.log(JSON.stringify(await fill('The capital of France is[MASK]Paris.')));
await fill.dispose();`,
    fields: ['token_str', 'score'],
  },
  {
    dir: 'clipseg',
    fixture: 'clipseg',
    pipelineCase: 'segment-by-prompts-noise_37x53',
    text: true,
    // The expected masks are one npy; the comparison runs here with core's own testing helpers.
    program: `import { promptSegmentation } from '@ortvision/clipseg';
import { compareArrays, readNpy } from '@ortvision/core/testing';
const segment = await promptSegmentation('./model');
const found = await segment('./images/noise_37x53.png', ['a cat', 'a remote control', 'something blue']);
const expected = await readNpy('./model/reference/pipe-segment-by-prompts-noise_37x53-out.masks.npy');
const actual = new Float32Array(found.flatMap((r) => Array.from(r.mask.data)));
const { ok, worstAbsError } = compareArrays(actual, expected.data, expected.dims, { atol: 1e-4 });
console.log(JSON.stringify({ masks: found.length, dims: found[0].mask.dims, ok, worstAbsError }));
await segment.dispose();`,
  },
  {
    dir: 'owlv2',
    fixture: 'owlv2',
    pipelineCase: 'zero-shot-nonsquare',
    text: true,
    program: `import { zeroShotObjectDetection } from '@ortvision/owlv2';
const detect = await zeroShotObjectDetection('./model');
const found = await detect('./images/cats.png', ['cat', 'remote control', 'couch', 'a photo of a dog'], { threshold: 0.5355 });
console.log(JSON.stringify(found));
await detect.dispose();`,
    // Boxes are left out: the package README documents a known box difference against this fixture.
    fields: ['label', 'score'],
  },
  {
    dir: 'altclip',
    fixture: 'altclip',
    pipelineCase: 'zero-shot-cats',
    text: true,
    program: `import { zeroShotImageClassification } from '@ortvision/altclip';
const classify = await zeroShotImageClassification('./model');
console.log(JSON.stringify(await classify('./images/cats.png', ['cat', 'dog', 'remote control', 'couch'])));
await classify.dispose();`,
    fields: ['label', 'score'],
  },
  {
    dir: 'mask2former',
    fixture: 'mask2former',
    pipelineCase: 'segment-semantic',
    text: false,
    program: `import { imageSegmentation } from '@ortvision/mask2former';
const segment = await imageSegmentation('./model');
const found = await segment('./images/noise_37x53.png', { subtask: 'semantic' });
console.log(JSON.stringify(found${project('label: r.label, score: r.score')}));
await segment.dispose();`,
    fields: ['label', 'score'],
  },
];

/** Problems of a program's printed result against the expected items of its pipeline case. */
export function compareItems(
  actual: unknown,
  expected: readonly Record<string, unknown>[],
  fields: readonly string[],
  atol: number,
): string[] {
  if (!Array.isArray(actual))
    return [`expected a list of ${expected.length} results, got ${JSON.stringify(actual)}`];
  if (actual.length !== expected.length) {
    return [`expected ${expected.length} results, got ${actual.length}: ${JSON.stringify(actual)}`];
  }
  const problems: string[] = [];
  expected.forEach((want, index) => {
    const got = actual[index] as Record<string, unknown>;
    for (const field of fields) {
      const [a, e] = [got?.[field], want[field]];
      const same = typeof e === 'number' && typeof a === 'number' ? Math.abs(a - e) <= atol : a === e;
      if (!same)
        problems.push(`result ${index} ${field}: got ${JSON.stringify(a)}, expected ${JSON.stringify(e)}`);
    }
  });
  return problems;
}
