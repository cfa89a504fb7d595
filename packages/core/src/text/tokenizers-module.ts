import { createRequire } from 'node:module';
import { MissingDependencyError } from '../errors.js';

export type TokenizersModule = typeof import('@huggingface/tokenizers');

export const TOKENIZERS_PACKAGE = '@huggingface/tokenizers';

/**
 * Loads a module with `load`, turning "not installed" into a `MissingDependencyError` that says what to install.
 * `load` is a parameter so that a test can simulate the package being absent.
 */
export function requireTokenizersModule(load: (id: string) => unknown): TokenizersModule {
  try {
    return load(TOKENIZERS_PACKAGE) as TokenizersModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new MissingDependencyError(
        `${TOKENIZERS_PACKAGE} is not installed: text tokenization needs it (an optional peer dependency of ` +
          `@ortvision/core, installed by the text model packages). Run: npm install ${TOKENIZERS_PACKAGE}`,
        { cause: error },
      );
    }
    throw error;
  }
}

let cached: TokenizersModule | undefined;

/**
 * `@huggingface/tokenizers`, loaded on first use. It is an optional peer dependency of core: the text model
 * packages (clipseg, owlv2, altclip) depend on it, so `npm i @ortvision/vit` does not install a tokenizer it never
 * runs. `require` (the package ships a CommonJS build for Node) keeps `new Tokenizer(files)` synchronous, which a
 * dynamic `import()` would not.
 */
export function loadTokenizersModule(): TokenizersModule {
  cached ??= requireTokenizersModule(createRequire(import.meta.url));
  return cached;
}
