import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** One fenced ```ts block of a README. */
export interface Snippet {
  /** The README, relative to the repository root. */
  file: string;
  /** Line of the opening fence (1-based). */
  line: number;
  code: string;
  /**
   * Why the snippet is not expected to compile on its own, from a `<!-- partial snippet: reason -->` comment on the
   * line before its fence; `undefined` for a complete snippet.
   */
  partial?: string;
}

const FENCE = /^(\s*)```(\w*)\s*$/;
const PARTIAL = /^<!--\s*partial snippet:\s*(.+?)\s*-->\s*$/;

/**
 * The ```ts / ```typescript blocks of a Markdown text, with the `partial snippet` marker of each. Other fences
 * (```sh, ```json) are skipped, and so is anything inside them.
 *
 * @example
 * ```ts
 * import { extractSnippets } from './snippets.js';
 *
 * const [snippet] = extractSnippets('```ts\nconst x: number = 1;\n```\n', 'README.md');
 * console.log(snippet?.line, snippet?.code); // 1 'const x: number = 1;\n'
 * ```
 */
export function extractSnippets(markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (open[2] !== 'ts' && open[2] !== 'typescript') continue;
    const partial = PARTIAL.exec(lines[start - 1] ?? '')?.[1];
    const indent = open[1]!.length;
    const code = body.map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)));
    snippets.push({ file, line: start + 1, code: `${code.join('\n')}\n`, ...(partial ? { partial } : {}) });
  }
  return snippets;
}

/** The repository's READMEs whose snippets users copy: the root one and each package's. */
export function readmeFiles(root: string): string[] {
  const packages = readdirSync(join(root, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join('packages', entry.name, 'README.md'));
  return ['README.md', ...packages].filter((file) => {
    try {
      readFileSync(join(root, file));
      return true;
    } catch {
      return false;
    }
  });
}

/** A compiler error in a snippet, located in the README. */
export interface SnippetError {
  file: string;
  /** The README line the error is on. */
  line: number;
  code: number;
  message: string;
}

/**
 * What a user's project compiles with: `tsc --strict` in an ESM Node project (module NodeNext). Not the workspace's
 * own extra checks (`noUncheckedIndexedAccess` would flag every `const [first] = results`, which --strict accepts).
 * `@ortvision/source` resolves the packages to their sources, as their published `.d.ts` describe them.
 */
const USER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  customConditions: ['@ortvision/source'],
  types: ['node'],
  skipLibCheck: true,
  noEmit: true,
};

/**
 * Type-checks each snippet as its own ES module (so names do not clash between snippets, and top-level `await`
 * works) with `USER_OPTIONS`. The snippets are never written to disk: they live at virtual paths in `moduleDir`,
 * whose node_modules provide the packages. Returns the errors, each at its README line.
 */
export function checkSnippets(snippets: readonly Snippet[], moduleDir: string): SnippetError[] {
  const compilerOptions = USER_OPTIONS;

  // `export {}` makes a snippet without imports a module too; it is appended so that line numbers stay.
  const sources = new Map(
    snippets.map((snippet, index) => [
      join(moduleDir, `__snippet_${index}__.ts`),
      { snippet, text: `${snippet.code}export {};\n` },
    ]),
  );
  const host = ts.createCompilerHost(compilerOptions);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => sources.has(name) || fileExists.call(host, name);
  host.readFile = (name) => sources.get(name)?.text ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError, create) => {
    const source = sources.get(name);
    return source
      ? ts.createSourceFile(name, source.text, language)
      : getSourceFile.call(host, name, language, onError, create);
  };
  const program = ts.createProgram([...sources.keys()], compilerOptions, host);

  const errors: SnippetError[] = [];
  for (const [name, { snippet }] of sources) {
    const sourceFile = program.getSourceFile(name)!;
    const diagnostics = [
      ...program.getSyntacticDiagnostics(sourceFile),
      ...program.getSemanticDiagnostics(sourceFile),
    ];
    for (const diagnostic of diagnostics) {
      const at =
        diagnostic.start === undefined ? 0 : sourceFile.getLineAndCharacterOfPosition(diagnostic.start).line;
      errors.push({
        file: snippet.file,
        line: snippet.line + 1 + at,
        code: diagnostic.code,
        message: ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'),
      });
    }
  }
  return errors;
}

/** `README.md:12 TS2345 message`, one per line, as a failing test prints them. */
export function formatErrors(errors: readonly SnippetError[], root: string): string {
  return errors
    .map((e) => `${relative(root, join(root, e.file))}:${e.line} TS${e.code} ${e.message}`)
    .join('\n');
}
