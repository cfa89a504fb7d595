import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SuiteResult, toMarkdown } from './harness.js';
import { suites } from './suites.js';

// `pnpm bench [--quick] [suite...]`: runs the named suites (all by default), prints markdown tables and writes
// results/<date>.json. Quick mode (fewer iterations, smaller inputs) is a smoke run for CI, not a pass/fail test.
async function main(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const names = argv.filter((arg) => !arg.startsWith('--')); // also drops the `--` pnpm passes through
  const selected = names.length > 0 ? names : Object.keys(suites);
  const unknown = selected.filter((name) => !suites[name]);
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')} (known: ${Object.keys(suites).join(', ')})`);
    process.exit(2);
  }
  const results: SuiteResult[] = [];
  const failed: string[] = [];
  for (const name of selected) {
    // One suite failing (a missing graph, an out-of-memory session) must not lose the others' results.
    try {
      const suite = await suites[name]!();
      for (const result of await suite.run({ quick })) {
        results.push(result);
        process.stdout.write(`${toMarkdown(result)}\n`);
      }
    } catch (error) {
      failed.push(name);
      process.stdout.write(
        `### ${name}: FAILED\n\n${error instanceof Error ? error.message : String(error)}\n\n`,
      );
    }
  }
  const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ node: process.version, quick, results, failed }, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
  if (failed.length > 0) {
    process.stderr.write(`failed suite(s): ${failed.join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
