import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './paths.js';

// Issue #17: `ranked.png` was left untracked in the repository root after `pnpm example:zero-shot`. Each CLI writes
// its picture where it is run (documented in its README), so the default names are git-ignored at the root.
const examples = ['classify', 'detect', 'segment', 'zero-shot'];

/** `out: 'name.png'` in the CLI's defaults. */
function defaultOut(example: string): string {
  const source = readFileSync(join(repoRoot, 'examples', example, 'src', 'cli.ts'), 'utf8');
  const found = /^\s*out: '([^']+)',$/m.exec(source);
  if (!found) throw new Error(`examples/${example}/src/cli.ts has no "out: '...'" default`);
  return found[1]!;
}

/** Root-anchored .gitignore patterns (`/name*.png`) as regular expressions; `*` is any run of characters. */
function rootPatterns(): RegExp[] {
  return readFileSync(join(repoRoot, '.gitignore'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('/') && !line.slice(1).includes('/'))
    .map(
      (line) =>
        new RegExp(
          `^${line
            .slice(1)
            .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')}$`,
        ),
    );
}

describe('example pictures never stay untracked in the repository root', () => {
  it.each(examples)(
    '%s: its default picture (and the numbered ones) is git-ignored and documented',
    (example) => {
      const out = defaultOut(example);
      const patterns = rootPatterns();
      for (const name of [out, out.replace(/\.png$/, '-2.png')]) {
        expect(
          patterns.some((p) => p.test(name)),
          `${name} is not ignored by a /pattern in .gitignore`,
        ).toBe(true);
      }
      const readme = readFileSync(join(repoRoot, 'examples', example, 'README.md'), 'utf8');
      expect(readme).toContain(`\`${out}\``);
    },
  );
});
