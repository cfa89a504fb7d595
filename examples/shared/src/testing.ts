import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs an example's CLI as a user would (a fresh Node process on its TypeScript sources) and returns its exit code
 * and output. INIT_CWD is cleared so that relative paths resolve against the test's working directory, not the
 * folder pnpm started the test run in. `env` adds variables (e.g. HF_ENDPOINT for a local Hub stand-in).
 */
export async function runExample(
  cli: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@ortvision/source', '--import', 'tsx', cli, ...args],
      { env: { ...process.env, INIT_CWD: '', ...env } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== 'number') throw error; // could not start at all
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}
