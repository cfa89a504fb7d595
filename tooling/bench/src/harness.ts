import { readFileSync } from 'node:fs';

/**
 * A small benchmark harness: several variants of the same work are run interleaved (A B C A B C ...) after a
 * warm-up, so that machine drift hits every variant alike; we report medians, min/max and ratios to a baseline.
 */
export interface Variant {
  name: string;
  /** One measured run. May be async. */
  run: () => unknown | Promise<unknown>;
}

export interface BenchOptions {
  warmup?: number;
  iterations?: number;
  /**
   * Idle pause before each timed run, not counted (default 25 ms). ONNX Runtime's pool threads keep spinning for
   * a while after a run; without the pause, whichever variant runs right after another session's run shares the
   * two cores with those spinning threads and measured ~10% slower (ViT-B/16: 210 vs 187 ms depending only on the
   * order of the variants).
   */
  settleMs?: number;
}

export interface VariantResult {
  name: string;
  samplesMs: number[];
  medianMs: number;
  minMs: number;
  maxMs: number;
}

/** A variant's result from its samples (timed by `compare`, or elsewhere: one process each, say). */
export function samplesResult(name: string, samplesMs: number[]): VariantResult {
  return {
    name,
    samplesMs,
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    maxMs: Math.max(...samplesMs),
  };
}

export interface SuiteResult {
  suite: string;
  case: string;
  iterations: number;
  variants: VariantResult[];
  /** Peak resident set size seen by the process so far, in MiB. */
  peakRssMiB: number;
  /** Derived figures the goals are stated in (overhead shares, ours / theirs), by name. */
  ratios?: Record<string, number>;
  /** What the numbers mean or why something was left out. */
  notes?: string[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of the variant named `name` (an error names the variants there are, to catch renamed variants). */
export function medianOf(result: SuiteResult, name: string): number {
  const variant = result.variants.find((v) => v.name === name);
  if (!variant) {
    throw new Error(
      `no variant "${name}" in ${result.case} (${result.variants.map((v) => v.name).join(', ')})`,
    );
  }
  return variant.medianMs;
}

/**
 * The share of end to end spent outside `session.run`: (end to end - floor) / end to end. The floor is the
 * same graph's session.run on a ready tensor, so this is everything a pipeline adds (decode, preprocess,
 * tokenize, tensor copies, post-process). Negative when noise puts the floor above end to end.
 */
export function overheadShare(endToEndMs: number, floorMs: number): number {
  return (endToEndMs - floorMs) / endToEndMs;
}

/** `a / b`: below 1 means `a` is faster (for times) or smaller (for memory). */
export function ratio(a: number, b: number): number {
  return a / b;
}

/** Rounds for the tables and the JSON (4 significant digits are more than the noise allows). */
export function round(value: number): number {
  return Number(value.toPrecision(4));
}

/** Runs the variants interleaved and returns their timings. */
export async function compare(
  suite: string,
  caseName: string,
  variants: Variant[],
  { warmup = 2, iterations = 10, settleMs = 25 }: BenchOptions = {},
): Promise<SuiteResult> {
  const settle = () => new Promise((resolve) => setTimeout(resolve, settleMs));
  for (let i = 0; i < warmup; i++) for (const variant of variants) await variant.run();
  const samples = variants.map(() => [] as number[]);
  for (let i = 0; i < iterations; i++) {
    for (const [index, variant] of variants.entries()) {
      await settle();
      const start = performance.now();
      await variant.run();
      samples[index]!.push(performance.now() - start);
    }
  }
  return {
    suite,
    case: caseName,
    iterations,
    variants: variants.map((variant, index) => samplesResult(variant.name, samples[index]!)),
    peakRssMiB: peakRssMiB(),
  };
}

/** A markdown table: one row per variant, with its median relative to the first variant. */
export function toMarkdown(result: SuiteResult): string {
  const base = result.variants[0]!.medianMs;
  const rows = result.variants.map(
    (v) =>
      `| ${v.name} | ${v.medianMs.toFixed(2)} | ${v.minMs.toFixed(2)} | ${v.maxMs.toFixed(2)} | ${(v.medianMs / base).toFixed(2)}x |`,
  );
  return [
    `### ${result.suite}: ${result.case} (${result.iterations} runs, peak RSS ${result.peakRssMiB} MiB)`,
    '',
    `| variant | median ms | min ms | max ms | vs ${result.variants[0]!.name} |`,
    '|---|---|---|---|---|',
    ...rows,
    '',
    ...Object.entries(result.ratios ?? {}).map(([name, value]) => `- ${name}: **${value}**`),
    ...(result.notes ?? []).map((note) => `- note: ${note}`),
    ...(result.ratios || result.notes ? [''] : []),
  ].join('\n');
}

export interface SuiteOptions {
  /** Fewer iterations and smaller inputs: a smoke run for CI, not a measurement. */
  quick: boolean;
}

/** A benchmark suite module exports `run`. */
export type Suite = (options: SuiteOptions) => Promise<SuiteResult[]>;

/**
 * The peak resident set size of this process so far, in MiB (one decimal): Linux's VmHWM, else `maxRSS`. Not
 * `process.resourceUsage().maxRSS` on Linux: it survives fork + exec, so a child spawned by a parent of 800 MiB
 * reports 800 MiB whatever it used itself (the bench's child processes did, until this was found).
 */
export function peakRssMiB(): number {
  let kib = process.resourceUsage().maxRSS;
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) kib = Number(hwm[1]);
  } catch {
    // not Linux: maxRSS it is
  }
  return Math.round((kib / 1024) * 10) / 10;
}

/** The result of a suite that quick mode skips, saying why, so that the table still lists it. */
export function skippedResult(suite: string, why: string): SuiteResult {
  return {
    suite,
    case: why,
    iterations: 0,
    variants: [
      { name: 'skipped', samplesMs: [], medianMs: Number.NaN, minMs: Number.NaN, maxMs: Number.NaN },
    ],
    peakRssMiB: peakRssMiB(),
  };
}
