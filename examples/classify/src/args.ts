import { InvalidArgumentError } from '@ortvision/core';

/** What every example accepts: a model, a device, and its own options. */
export interface CommonArgs {
  model: string;
  device: 'cpu' | 'cuda' | 'auto';
  out: string;
  positional: string[];
  flags: Record<string, string>;
}

const devices = ['cpu', 'cuda', 'auto'] as const;

/**
 * Parses `--name value` pairs and positional arguments. `--model`, `--device` and `--out` are common to the
 * examples; other `--name value` pairs are returned in `flags` for the example to read.
 */
export function parseArgs(argv: readonly string[], defaults: { model: string; out: string }): CommonArgs {
  const flags: Record<string, string> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') continue; // pnpm passes the separator through
    if (arg.startsWith('--')) {
      const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
      const value = inline ?? argv[++i];
      if (value === undefined) throw new InvalidArgumentError(`--${name} needs a value`);
      flags[name] = value;
    } else positional.push(arg);
  }
  const device = (flags.device ?? 'cpu') as CommonArgs['device'];
  if (!devices.includes(device)) {
    throw new InvalidArgumentError(
      `--device must be one of ${devices.join(', ')}, got ${JSON.stringify(device)}`,
    );
  }
  const { model = defaults.model, out = defaults.out, device: _device, ...rest } = flags;
  return { model, device, out, positional, flags: rest };
}
