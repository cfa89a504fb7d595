import { InvalidArgumentError } from '@ortvision/core';

export const devices = ['cpu', 'cuda', 'auto'] as const;
export type Device = (typeof devices)[number];

/** What every example accepts: a model, a device, an output picture, and its own options. */
export interface CommonArgs {
  model: string;
  device: Device;
  out: string;
  positional: string[];
  flags: Record<string, string>;
}

/**
 * Parses `--name value` / `--name=value` pairs and positional arguments. `--model`, `--device` and `--out` are
 * common to the examples; other pairs are returned in `flags`, and an example rejects the ones it does not know
 * with `checkFlags` so that a typo is not silently ignored.
 */
export function parseArgs(argv: readonly string[], defaults: { model: string; out: string }): CommonArgs {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue; // pnpm passes the separator through
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new InvalidArgumentError(`--${name} needs a value`);
      flags[name] = value;
    } else positional.push(arg);
  }
  const { model = defaults.model, out = defaults.out, device = 'cpu', ...rest } = flags;
  return { model, device: choiceFlag('device', device, devices), out, positional, flags: rest };
}

/** Throws for a flag the example does not take, naming the ones it does. */
export function checkFlags(flags: Record<string, string>, known: readonly string[]): void {
  for (const name of Object.keys(flags)) {
    if (!known.includes(name)) {
      const takes = ['model', 'device', 'out', ...known].map((n) => `--${n}`).join(', ');
      throw new InvalidArgumentError(`unknown option --${name}; this example takes ${takes}`);
    }
  }
}

/** `value` if it is one of `choices`, else an error naming the flag and the choices. */
export function choiceFlag<T extends string>(name: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

/** A number flag within [min, max] (integers only with `integer`), or `fallback` when it is absent. */
export function numberFlag(
  flags: Record<string, string>,
  name: string,
  fallback: number,
  { min = -Infinity, max = Infinity, integer = false } = {},
): number {
  const text = flags[name];
  if (text === undefined) return fallback;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    const range = `${integer ? 'an integer' : 'a number'} ${max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`}`;
    throw new InvalidArgumentError(`--${name} must be ${range}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A comma-separated list flag (`--labels "a cat, a remote"`): trimmed, empty items dropped. */
export function listFlag(flags: Record<string, string>, name: string): string[] | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0) {
    throw new InvalidArgumentError(
      `--${name} needs at least one comma-separated item, got ${JSON.stringify(text)}`,
    );
  }
  return items;
}
