import { describe, expect, it } from 'vitest';
import {
  abortable,
  abortedError,
  asAbortedError,
  checkAbortSignal,
  currentAbortSignal,
  throwIfAborted,
  withAbortSignal,
} from './abort.js';
import { AbortedError, InvalidArgumentError } from './errors.js';

describe('abort helpers', () => {
  it('throwIfAborted: nothing before the abort, AbortedError naming the operation after', () => {
    const controller = new AbortController();
    throwIfAborted(controller.signal, 'loading');
    throwIfAborted(undefined, 'loading');
    controller.abort();
    expect(() => throwIfAborted(controller.signal, 'loading')).toThrowError(
      new AbortedError('loading was aborted'),
    );
  });

  it('abortedError keeps the reason and says when a time limit ran out', async () => {
    const controller = new AbortController();
    controller.abort('user closed the page');
    const error = abortedError(controller.signal, 'classifying');
    expect(error.message).toBe('classifying was aborted: user closed the page');
    expect(error.cause).toBe('user closed the page');
    expect(error.timedOut).toBe(false);
    const timeout = AbortSignal.timeout(1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const timedOut = abortedError(timeout, 'classifying');
    expect(timedOut.timedOut).toBe(true);
    expect(timedOut.message).toMatch(/^classifying timed out/);
  });

  it('asAbortedError turns what an aborted step threw into AbortedError, and leaves other errors', () => {
    const controller = new AbortController();
    const other = new Error('disk full');
    expect(asAbortedError(other, controller.signal, 'x')).toBe(other);
    controller.abort();
    expect(asAbortedError(new DOMException('aborted', 'AbortError'), controller.signal, 'x')).toBeInstanceOf(
      AbortedError,
    );
  });

  it('abortable runs a step, and maps the raw rejection of an aborted step', async () => {
    await expect(abortable(undefined, 'x', async () => 5)).resolves.toBe(5);
    const controller = new AbortController();
    const step = abortable(
      controller.signal,
      'downloading',
      () =>
        new Promise((_, reject) =>
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason)),
        ),
    );
    controller.abort();
    await expect(step).rejects.toThrowError(new AbortedError('downloading was aborted'));
    await expect(abortable('soon', 'x', async () => 1)).rejects.toThrow(InvalidArgumentError);
  });

  it('checkAbortSignal refuses what is not a signal', () => {
    expect(() => checkAbortSignal({ aborted: false }, 'a call')).toThrowError(
      new InvalidArgumentError(
        'signal of a call must be an AbortSignal (from an AbortController or AbortSignal.timeout()), got {"aborted":false}',
      ),
    );
  });

  it('withAbortSignal makes the signal current across awaits, and only inside', async () => {
    const signal = new AbortController().signal;
    expect(currentAbortSignal()).toBeUndefined();
    const seen = await withAbortSignal(signal, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentAbortSignal();
    });
    expect(seen).toBe(signal);
    expect(currentAbortSignal()).toBeUndefined();
  });
});
