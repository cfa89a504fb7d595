// pnpm --filter @ortvision/install-check check [model...] [--no-transformers] [--keep]
//
// Packs every package as `pnpm publish` would, then for each model package installs core's and the model's
// tarballs with npm into an empty folder (dependencies from the registry, onnxruntime-node's CUDA download
// skipped), runs a small program against a fixture copied there, and measures node_modules. Finally installs
// @huggingface/transformers the same way, for comparison. Needs `pnpm build` first; takes minutes.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diskUsage, formatMegabytes, installedPackages, npmInstall } from './install.js';
import { SMOKE_TESTS, type SmokeTest, compareItems } from './smoke.js';
import {
  type PackedManifest,
  listTarball,
  packPackage,
  readTarballFile,
  run,
  tarballProblems,
} from './tarball.js';

const root = resolve(import.meta.dirname, '../../..');
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const withTransformers = !args.includes('--no-transformers');
const only = args.filter((arg) => !arg.startsWith('--'));
const unknown = only.filter((dir) => !SMOKE_TESTS.some((test) => test.dir === dir));
if (unknown.length > 0) {
  console.error(
    `unknown model package(s): ${unknown.join(', ')} (known: ${SMOKE_TESTS.map((t) => t.dir).join(', ')})`,
  );
  process.exit(2);
}
const tests = SMOKE_TESTS.filter((test) => only.length === 0 || only.includes(test.dir));

interface Row {
  install: string;
  packages: number;
  bytes: number;
  seconds: number;
  versions: string;
  result: string;
}

const problems: string[] = [];
const rows: Row[] = [];
const work = await mkdtemp(join(tmpdir(), 'ortvision-install-check-'));

async function packAll(): Promise<Map<string, string>> {
  const tarballs = new Map<string, string>();
  const packDir = join(work, 'tarballs');
  await mkdir(packDir);
  for (const dir of ['core', ...SMOKE_TESTS.map((test) => test.dir)]) {
    const packageDir = join(root, 'packages', dir);
    if (!existsSync(join(packageDir, 'dist', 'index.js'))) {
      throw new Error(`packages/${dir}/dist/index.js is missing: run pnpm build first`);
    }
    const tarball = await packPackage(packageDir, packDir);
    const manifest = JSON.parse(await readTarballFile(tarball, 'package.json')) as PackedManifest;
    const found = tarballProblems(await listTarball(tarball), manifest);
    problems.push(...found.map((problem) => `${manifest.name} tarball: ${problem}`));
    console.log(
      `packed ${manifest.name}@${manifest.version}${found.length ? ` (${found.length} problems)` : ''}`,
    );
    tarballs.set(dir, tarball);
  }
  return tarballs;
}

/** Installs, then measures node_modules: disk use, package count, and the versions of the big dependencies. */
async function installAndMeasure(name: string, specs: string[], dir: string) {
  await mkdir(dir);
  const started = performance.now();
  await npmInstall(dir, specs);
  const seconds = (performance.now() - started) / 1000;
  const installed = await installedPackages(dir);
  const bytes = await diskUsage(join(dir, 'node_modules'));
  const version = (pkg: string) => installed.find((p) => p.name === pkg)?.version;
  const versions = ['onnxruntime-node', 'sharp', '@huggingface/tokenizers']
    .filter((pkg) => version(pkg))
    .map((pkg) => `${pkg} ${version(pkg)}`)
    .join(', ');
  console.log(
    `installed ${name}: ${installed.length} packages, ${formatMegabytes(bytes)}, ${seconds.toFixed(0)} s`,
  );
  return { installed, bytes, seconds, versions };
}

async function checkModel(test: SmokeTest, tarballs: Map<string, string>): Promise<void> {
  const name = `@ortvision/${test.dir}`;
  const dir = join(work, test.dir);
  const coreTarball = tarballs.get('core') as string;
  const modelTarball = tarballs.get(test.dir) as string;
  const { installed, bytes, seconds, versions } = await installAndMeasure(
    name,
    [coreTarball, modelTarball],
    dir,
  );
  const own = new Set(installed.filter((p) => p.name.startsWith('@ortvision/')).map((p) => p.name));
  const expectedOwn = ['@ortvision/core', name];
  if (own.size !== 2 || !expectedOwn.every((n) => own.has(n))) {
    problems.push(`${name}: installs ${[...own].join(', ')}, expected exactly ${expectedOwn.join(' and ')}`);
  }
  const hasTokenizers = installed.some((p) => p.name === '@huggingface/tokenizers');
  if (hasTokenizers !== test.text) {
    problems.push(
      `${name}: @huggingface/tokenizers is ${hasTokenizers ? '' : 'not '}installed (text model: ${test.text})`,
    );
  }

  await cp(join(root, 'fixtures', test.fixture), join(dir, 'model'), { recursive: true });
  await cp(join(root, 'fixtures', 'images'), join(dir, 'images'), { recursive: true });
  await writeFile(join(dir, 'smoke.mjs'), `${test.program}\n`);
  let result = 'ok';
  try {
    const stdout = await run(process.execPath, ['smoke.mjs'], { cwd: dir });
    const printed = JSON.parse(stdout.trim().split('\n').at(-1) as string) as unknown;
    const manifest = JSON.parse(await readFile(join(dir, 'model', 'reference', 'manifest.json'), 'utf8')) as {
      pipeline: { name: string; expected: unknown; atol?: number }[];
    };
    const pipelineCase = manifest.pipeline.find((c) => c.name === test.pipelineCase);
    if (pipelineCase === undefined)
      throw new Error(`fixture ${test.fixture} has no pipeline case ${test.pipelineCase}`);
    const found = test.fields
      ? compareItems(
          printed,
          pipelineCase.expected as Record<string, unknown>[],
          test.fields,
          pipelineCase.atol ?? 0,
        )
      : (printed as { ok: boolean }).ok
        ? []
        : [`outputs differ from the fixture: ${JSON.stringify(printed)}`];
    if (found.length > 0) {
      result = 'differs';
      problems.push(...found.map((problem) => `${name} on ${test.fixture}/${test.pipelineCase}: ${problem}`));
    }
  } catch (error) {
    result = 'failed';
    problems.push(`${name}: the program failed: ${(error as Error).message}`);
  }
  rows.push({ install: `\`npm i ${name}\``, packages: installed.length, bytes, seconds, versions, result });
  if (!keep) await rm(dir, { recursive: true, force: true });
}

async function checkTransformers(): Promise<void> {
  const bench = JSON.parse(await readFile(join(root, 'tooling/bench/package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  // The version the benchmarks compare against, so the two comparisons are of the same release.
  const spec = `@huggingface/transformers@${bench.devDependencies['@huggingface/transformers']}`;
  const dir = join(work, 'transformers');
  const { installed, bytes, seconds, versions } = await installAndMeasure(spec, [spec], dir);
  rows.push({
    install: `\`npm i ${spec}\``,
    packages: installed.length,
    bytes,
    seconds,
    versions,
    result: '—',
  });
  if (!keep) await rm(dir, { recursive: true, force: true });
}

try {
  const tarballs = await packAll();
  for (const test of tests) await checkModel(test, tarballs);
  if (withTransformers) await checkTransformers();
} catch (error) {
  problems.push((error as Error).message);
}

console.log('\n| install | node_modules | packages | time | resolved | runs its fixture |');
console.log('|---|---:|---:|---:|---|---|');
for (const row of rows) {
  console.log(
    `| ${row.install} | ${formatMegabytes(row.bytes)} | ${row.packages} | ${row.seconds.toFixed(0)} s | ${row.versions} | ${row.result} |`,
  );
}
console.log(
  `\nnode ${process.version}, npm ${(await run('npm', ['--version'])).trim()}, ${process.platform}/${process.arch}`,
);
if (keep) console.log(`kept ${work}`);
else await rm(work, { recursive: true, force: true });
if (problems.length > 0) {
  console.log(`\n${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exitCode = 1;
} else {
  console.log('\nno problems');
}
