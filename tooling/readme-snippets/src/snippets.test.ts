import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Snippet, checkSnippets, extractSnippets, formatErrors, readmeFiles } from './snippets.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../../..');

describe('extractSnippets', () => {
  it('takes ts and typescript fences with their line and partial marker, and nothing else', () => {
    const markdown = [
      '# Title', // 1
      '```ts', // 2
      'const a = 1;', // 3
      '```', // 4
      '```sh', // 5
      'npm i x', // 6
      '```', // 7
      '<!-- partial snippet: continues the one above -->', // 8
      '```typescript', // 9
      'console.log(a);', // 10
      '```', // 11
      '- item:', // 12
      '  ```ts', // 13
      '  const b = 2;', // 14
      '  ```', // 15
    ].join('\n');
    expect(extractSnippets(markdown, 'X.md')).toEqual([
      { file: 'X.md', line: 2, code: 'const a = 1;\n' },
      { file: 'X.md', line: 9, code: 'console.log(a);\n', partial: 'continues the one above' },
      { file: 'X.md', line: 13, code: 'const b = 2;\n' },
    ]);
  });
});

describe('checkSnippets', () => {
  it('reports a type error at its README line, and passes code that compiles', () => {
    const snippets: Snippet[] = [
      {
        file: 'X.md',
        line: 10,
        code: "import { loadImage } from '@ortvision/core';\nconst image = await loadImage('a.png');\nconst n: string = image.width;\n",
      },
      {
        file: 'X.md',
        line: 20,
        code: "import { loadImage } from '@ortvision/core';\nconsole.log((await loadImage('a.png')).width);\n",
      },
    ];
    const errors = checkSnippets(snippets, here);
    expect(errors.map((e) => [e.file, e.line, e.code])).toEqual([['X.md', 13, 2322]]);
    expect(errors[0]!.message).toBe("Type 'number' is not assignable to type 'string'.");
  });
});

// Issue #17: README snippets that could not work (the OWLv2 one failed tsc --strict with TS2345). Every ```ts block
// of the root README and each package README compiles with the workspace's strict settings against the packages'
// sources; only blocks marked `<!-- partial snippet: why -->` are skipped, and they stay few.
describe('README snippets type-check', () => {
  const snippets = readmeFiles(root).flatMap((file) =>
    extractSnippets(readFileSync(join(root, file), 'utf8'), file),
  );

  it('finds the snippets of every package README', () => {
    const files = new Set(snippets.map((s) => s.file));
    for (const name of ['core', 'vit', 'levit', 'perceiver', 'clipseg', 'owlv2', 'altclip', 'mask2former']) {
      expect(files, name).toContain(join('packages', name, 'README.md'));
    }
    expect(snippets.length).toBeGreaterThan(30);
  });

  it('marks few snippets as partial, each with a reason', () => {
    const partial = snippets.filter((s) => s.partial !== undefined);
    expect(partial.length).toBeLessThanOrEqual(3);
    for (const s of partial) expect(s.partial!.length, `${s.file}:${s.line}`).toBeGreaterThan(10);
  });

  it('every complete snippet compiles (tsc --strict)', () => {
    const errors = checkSnippets(
      snippets.filter((s) => s.partial === undefined),
      here,
    );
    expect(formatErrors(errors, root)).toBe('');
  });
});
