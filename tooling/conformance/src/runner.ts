import { join } from 'node:path';
import { type ModelSession, type NamedTensors, type Tensor, loadGraph } from '@ortvision/core';
import {
  type CaseKind,
  type Fixture,
  type JsonValue,
  type ModelCase,
  type ResultValue,
  type Tolerance,
  compareJson,
  compareTensors,
  describeComparison,
  loadFixture,
  readNpy,
} from '@ortvision/core/testing';
import { type CaseContext, type ConformanceAdapter, UnsupportedCaseError } from './adapter.js';

export type CaseStatus = 'ok' | 'fail' | 'no-adapter';

export interface CaseResult {
  fixture: string;
  kind: CaseKind;
  name: string;
  status: CaseStatus;
  /** Largest difference seen (NaN when the case did not run). */
  worst: number;
  /** Why it failed, or which call/task has no adapter. */
  detail: string;
}

/** Returns the adapter for a `model_type`, or undefined when there is none (model cases still run generically). */
export type AdapterLookup = (modelType: string) => Promise<ConformanceAdapter | undefined>;

export interface RunOptions {
  adapters: AdapterLookup;
  /** Where manifests' image names are resolved; default `<fixture>/../images`. */
  imagesDir?: string;
  /** Called once per finished case, for streaming output. */
  onResult?: (result: CaseResult) => void;
}

/** Runs a model case through core's generic graph loader: the graph's own outputs, no model package code. */
async function runGraphGenerically(
  testCase: ModelCase,
  context: CaseContext,
  sessions: Map<string, ModelSession>,
): Promise<NamedTensors> {
  let session = sessions.get(testCase.graph);
  if (!session) {
    session = await loadGraph(context.fixture.dir, testCase.graph);
    sessions.set(testCase.graph, session);
  }
  const feeds: NamedTensors = {};
  for (const [name, file] of Object.entries(testCase.feeds)) feeds[name] = await context.readNpy(file);
  return session.run(feeds);
}

async function compareNamedTensors(
  actual: NamedTensors,
  expected: Record<string, string>,
  tolerance: Tolerance,
  context: CaseContext,
): Promise<{ ok: boolean; worst: number; detail: string }> {
  let worst = 0;
  const problems: string[] = [];
  for (const [name, file] of Object.entries(expected)) {
    const got = actual[name];
    if (!got) {
      problems.push(`${name}: missing from the result (got ${Object.keys(actual).join(', ') || 'nothing'})`);
      worst = Number.POSITIVE_INFINITY;
      continue;
    }
    const comparison = compareTensors(got, await context.readNpy(file), tolerance);
    worst = Math.max(worst, comparison.worstAbsError);
    if (!comparison.ok) problems.push(`${name}: ${describeComparison(comparison)}`);
  }
  return { ok: problems.length === 0, worst, detail: problems.join('; ') };
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * Runs every case of one fixture through its model type's adapter and compares with the expected values at the
 * case's tolerances. Processor cases default to exact comparison, model cases to the manifest's atol/rtol.
 */
export async function runFixture(dir: string, options: RunOptions): Promise<CaseResult[]> {
  const fixture: Fixture = await loadFixture(dir, options.imagesDir);
  const { manifest } = fixture;
  const adapter = (await options.adapters(manifest.model_type)) ?? {};
  const npyCache = new Map<string, Promise<Tensor>>();
  const context: CaseContext = {
    fixture,
    fixtureFile: (relative) => join(fixture.dir, relative),
    imagePath: (name) => join(fixture.imagesDir, name),
    readNpy: (relative) => {
      let tensor = npyCache.get(relative);
      if (!tensor) {
        tensor = readNpy(join(fixture.dir, relative));
        npyCache.set(relative, tensor);
      }
      return tensor;
    },
  };
  const sessions = new Map<string, ModelSession>();
  const results: CaseResult[] = [];
  const record = (kind: CaseKind, name: string, status: CaseStatus, worst: number, detail: string) => {
    const result = { fixture: manifest.fixture, kind, name, status, worst, detail };
    results.push(result);
    options.onResult?.(result);
  };
  const noAdapterFor = (kind: CaseKind, name: string, why: string) =>
    record(kind, name, 'no-adapter', Number.NaN, why);
  const noAdapter = (kind: CaseKind, name: string, what: string) =>
    noAdapterFor(kind, name, `no adapter for ${what} (model_type '${manifest.model_type}')`);

  try {
    for (const testCase of manifest.processor) {
      const run = adapter.processor?.[testCase.call];
      if (!run) {
        noAdapter('processor', testCase.name, `processor call '${testCase.call}'`);
        continue;
      }
      try {
        const tolerance = { atol: testCase.atol ?? 0, rtol: testCase.rtol ?? 0 };
        const outcome = await compareNamedTensors(
          await run(testCase, context),
          testCase.outputs,
          tolerance,
          context,
        );
        record('processor', testCase.name, outcome.ok ? 'ok' : 'fail', outcome.worst, outcome.detail);
      } catch (error) {
        if (error instanceof UnsupportedCaseError) noAdapterFor('processor', testCase.name, error.message);
        else record('processor', testCase.name, 'fail', Number.NaN, errorText(error));
      }
    }

    for (const testCase of manifest.model) {
      try {
        const outputs = adapter.model
          ? await adapter.model(testCase, context)
          : await runGraphGenerically(testCase, context, sessions);
        const tolerance = { atol: testCase.atol ?? 0, rtol: testCase.rtol ?? 0 };
        const outcome = await compareNamedTensors(outputs, testCase.expected, tolerance, context);
        record('model', testCase.name, outcome.ok ? 'ok' : 'fail', outcome.worst, outcome.detail);
      } catch (error) {
        if (error instanceof UnsupportedCaseError) noAdapterFor('model', testCase.name, error.message);
        else record('model', testCase.name, 'fail', Number.NaN, errorText(error));
      }
    }

    const jsonCases = [
      ...manifest.postprocess.map((c) => ({
        kind: 'postprocess' as const,
        key: c.call,
        what: `post-process call '${c.call}'`,
        c,
      })),
      ...manifest.pipeline.map((c) => ({
        kind: 'pipeline' as const,
        key: c.task,
        what: `pipeline task '${c.task}'`,
        c,
      })),
    ];
    for (const { kind, key, what, c: testCase } of jsonCases) {
      const run = (
        adapter[kind] as
          | Record<string, (t: typeof testCase, ctx: CaseContext) => Promise<ResultValue>>
          | undefined
      )?.[key];
      if (!run) {
        noAdapter(kind, testCase.name, what);
        continue;
      }
      try {
        const actual = await run(testCase, context);
        const outcome = await compareJson(
          actual,
          testCase.expected as JsonValue,
          testCase.atol ?? 0,
          context.readNpy,
        );
        record(kind, testCase.name, outcome.ok ? 'ok' : 'fail', outcome.worst, outcome.mismatch ?? '');
      } catch (error) {
        if (error instanceof UnsupportedCaseError) noAdapterFor(kind, testCase.name, error.message);
        else record(kind, testCase.name, 'fail', Number.NaN, errorText(error));
      }
    }
  } finally {
    await Promise.all([...sessions.values()].map((session) => session.dispose()));
    await adapter.dispose?.();
  }
  return results;
}

function formatNumber(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  return value < 1e-3 ? value.toExponential(2) : value.toPrecision(3);
}

/** `ok   vit-cls model/batch2  worst 3.1e-6` — one line per case. */
export function formatResult(result: CaseResult): string {
  const label = { ok: 'ok  ', fail: 'FAIL', 'no-adapter': 'N/A ' }[result.status];
  const worst = Number.isNaN(result.worst) ? '' : `  worst ${formatNumber(result.worst)}`;
  const detail = result.status === 'ok' ? '' : `  ${result.detail}`;
  return `${label} ${result.fixture} ${result.kind}/${result.name}${worst}${detail}`;
}

export interface Summary {
  passed: number;
  failed: number;
  notRun: number;
  /** 0 all passed, 1 something failed, 2 nothing failed but some case had no adapter. */
  exitCode: 0 | 1 | 2;
  lines: string[];
}

/** The closing lines: which calls/tasks had no adapter, then `N passed, M failed`. */
export function summarize(results: readonly CaseResult[]): Summary {
  const passed = results.filter((r) => r.status === 'ok').length;
  const failed = results.filter((r) => r.status === 'fail').length;
  const missing = results.filter((r) => r.status === 'no-adapter');
  const lines: string[] = [];
  if (missing.length > 0) {
    const what = [...new Set(missing.map((r) => r.detail))];
    lines.push(`${missing.length} case(s) not run: ${what.join('; ')}`);
  }
  lines.push(`${passed} passed, ${failed} failed`);
  return {
    passed,
    failed,
    notRun: missing.length,
    exitCode: failed > 0 ? 1 : missing.length > 0 ? 2 : 0,
    lines,
  };
}
