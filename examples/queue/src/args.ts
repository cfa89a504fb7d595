import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '@ortvision/core';

/** Where the producer and the workers find Redis unless `--redis` says: `$REDIS_URL`, else a local one. */
export function defaultRedisUrl(): string {
  return process.env.REDIS_URL || 'redis://127.0.0.1:6379';
}

/**
 * `--name value` flags (every one takes a value, except the `switches`) and positional arguments; a flag the command
 * does not take is an `InvalidArgumentError` naming the ones it does (a typo must not be silently ignored by a
 * worker that then runs with its defaults).
 */
export function parseFlags(
  argv: readonly string[],
  names: readonly string[],
  switches: readonly string[] = [],
): { flags: Record<string, string>; switches: Set<string>; positional: string[] } {
  const options = Object.fromEntries([
    ...names.map((name) => [name, { type: 'string' as const }]),
    ...switches.map((name) => [name, { type: 'boolean' as const }]),
  ]);
  try {
    const { values, positionals } = parseArgs({
      args: argv.filter((arg) => arg !== '--'),
      options,
      allowPositionals: true,
      strict: true,
    });
    const flags: Record<string, string> = {};
    const on = new Set<string>();
    for (const [name, value] of Object.entries(values)) {
      if (typeof value === 'string') flags[name] = value;
      else if (value === true) on.add(name);
    }
    return { flags, switches: on, positional: positionals };
  } catch (error) {
    const takes = [...names, ...switches].map((name) => `--${name}`).join(', ');
    throw new InvalidArgumentError(
      `${(error as Error).message.split('\n')[0]} (this command takes ${takes})`,
    );
  }
}

/** A flag's value as JSON of the expected kind, or an error naming the flag. */
export function jsonFlag<T>(
  flags: Record<string, string>,
  name: string,
  kind: 'array' | 'object',
): T | undefined {
  const text = flags[name];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(
      `--${name} must be JSON, got ${JSON.stringify(text)}: ${(error as Error).message}`,
    );
  }
  const isKind =
    kind === 'array'
      ? Array.isArray(value)
      : typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isKind) {
    throw new InvalidArgumentError(`--${name} must be a JSON ${kind}, got ${JSON.stringify(text)}`);
  }
  return value as T;
}
