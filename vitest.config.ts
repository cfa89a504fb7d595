import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// One vitest configuration for the whole workspace: each package, tool and example with a src/ folder is a
// project named after its package.json, so `vitest run --project @ortvision/core` runs one package and
// `vitest run` runs everything in one process with one summary.
const root = import.meta.dirname;
const projectDirs = ['packages', 'tooling', 'examples'].flatMap((group) =>
  existsSync(join(root, group))
    ? readdirSync(join(root, group), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(join(root, group, entry.name, 'src')))
        .map((entry) => join(group, entry.name))
    : [],
);

function packageName(dir: string): string {
  const manifest = join(root, dir, 'package.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')).name as string) : dir;
}

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources (the "@ortvision/source" export condition), so tests
  // never run against a stale dist/.
  resolve: { conditions: ['@ortvision/source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['@ortvision/source', 'node', 'import', 'default'] } },
  test: {
    reporters: ['default', join(root, 'tooling/vitest/summary-reporter.ts')],
    globalSetup: [join(root, 'tooling/vitest/graph-cache-setup.ts')],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: projectDirs.map((dir) => ({
      extends: true,
      test: { name: packageName(dir), root: join(root, dir), include: ['src/**/*.test.ts'] },
    })),
  },
});
