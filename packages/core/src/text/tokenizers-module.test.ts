import { describe, expect, it } from 'vitest';
import { MissingDependencyError } from '../errors.js';
import { loadTokenizersModule, requireTokenizersModule } from './tokenizers-module.js';

function notFound(code: string): (id: string) => never {
  return (id) => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code });
  };
}

describe('loading @huggingface/tokenizers (an optional peer dependency)', () => {
  it('loads the installed package, once', () => {
    const first = loadTokenizersModule();
    expect(typeof first.Tokenizer).toBe('function');
    expect(loadTokenizersModule()).toBe(first);
  });

  it.each(['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND'])(
    'says what to install when the package is absent (%s)',
    (code) => {
      const attempt = () => requireTokenizersModule(notFound(code));
      expect(attempt).toThrow(MissingDependencyError);
      expect(attempt).toThrow(
        '@huggingface/tokenizers is not installed: text tokenization needs it (an optional peer dependency of ' +
          '@ortvision/core, installed by the text model packages). Run: npm install @huggingface/tokenizers',
      );
    },
  );

  it('passes other load failures through unchanged', () => {
    const broken = new SyntaxError('Unexpected token');
    expect(() =>
      requireTokenizersModule(() => {
        throw broken;
      }),
    ).toThrow(broken);
  });
});
