import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line `N passed, N failed, N skipped` after vitest's own summary, so that CI logs
 * (and tools that read closing lines) get one unambiguous count for the whole run.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that failed to load has no tests but must still count as a failure.
      if (testModule.state() === 'failed' && testModule.children.size === 0) failed++;
    }
    failed += unhandledErrors.length;
    // vitest's default reporter prints its own summary after every reporter's onTestRunEnd; writing at exit
    // makes ours the last line of the run (stdout writes are synchronous for files, pipes and terminals).
    this.#line = `${passed} passed, ${failed} failed, ${skipped} skipped`;
    if (!this.#hooked) {
      this.#hooked = true;
      process.once('exit', () => process.stdout.write(`\n${this.#line}\n`));
    }
  }

  #line = '';
  #hooked = false;
}
