import { OrtVisionError } from '@ortvision/core';

/** An error from the system (a file that cannot be written, a full disk): its message says it all. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error
  );
}

/**
 * Runs an example's `main`: `--help` / `-h` prints the usage, our typed errors and system errors (ENOENT, EACCES,
 * ...) print as one line (`InvalidArgumentError: ...`) and anything else with its stack, since that is a bug;
 * failures exit with 1.
 */
export async function runCli(
  usage: string,
  main: (argv: string[]) => Promise<void>,
  argv: string[] = process.argv.slice(2),
): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage);
    return;
  }
  try {
    await main(argv);
  } catch (error) {
    const oneLine = error instanceof OrtVisionError || isSystemError(error);
    console.error(oneLine ? `${error.name}: ${error.message}` : error);
    process.exitCode = 1;
  }
}

/** Random-weight fixture models give meaningless numbers; every example says so where it uses one. */
export const FIXTURE_NOTE =
  'The default model is a tiny fixture with random weights shipped in this repository: it runs offline and the\n' +
  'pipeline is real, but its scores, boxes and masks mean nothing. Pass --model <hub id> for a real model.';
