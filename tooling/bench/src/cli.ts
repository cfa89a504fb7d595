import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SuiteResult, toMarkdown } from './harness.js';

/**
 * `pnpm bench [--quick] [suite...]`. Each suite module exports `run(options)` returning its results; quick mode
 * uses fewer iterations and smaller inputs (CI smoke run, not a pass/fail test).
 */
export interface SuiteOptions {
  quick: boolean;
}
export type Suite = (options: SuiteOptions) => Promise<SuiteResult[]>;

const suites: Record<string, () => Promise<{ run: Suite }>> = {};

/** Suites register here; the import is lazy so one suite's dependencies don't slow the others. */
export function registerSuite(name: string, load: () => Promise<{ run: Suite }>): void {
  suites[name] = load;
}

async function main(argv: string[]): Promise<void> {
  await import('./suites.js');
  const quick = argv.includes('--quick');
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const selected = names.length > 0 ? names : Object.keys(suites);
  const unknown = selected.filter((name) => !suites[name]);
  if (unknown.length > 0) {
    console.error(`unknown suite(s): ${unknown.join(', ')} (known: ${Object.keys(suites).join(', ')})`);
    process.exit(2);
  }
  const results: SuiteResult[] = [];
  for (const name of selected) {
    const suite = await suites[name]!();
    for (const result of await suite.run({ quick })) {
      results.push(result);
      process.stdout.write(`${toMarkdown(result)}\n`);
    }
  }
  const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${new Date().toISOString().slice(0, 10)}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ node: process.version, quick, results }, null, 2)}\n`);
  process.stdout.write(`results written to ${file}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main(process.argv.slice(2));
