import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, ModelNotFoundError } from '../errors.js';
import { optionNames } from '../validation/option-names.js';
import { type HubDownloadOptions, hubDownload, isValidRepoId } from './hub-file.js';

/** A file to resolve: its path in the repository, optionally allowed to be missing. */
export type FileRequest = string | { path: string; optional?: boolean };

export interface ResolveOptions extends HubDownloadOptions {}

/** The keys of `ResolveOptions`: what every `fromPretrained` of a config, processor or tokenizer accepts. */
export const RESOLVE_OPTIONS = optionNames<ResolveOptions>({
  revision: true,
  cacheDir: true,
  localFilesOnly: true,
  token: true,
  endpoint: true,
  onProgress: true,
  idleTimeoutMs: true,
  retries: true,
  retryDelayMs: true,
  signal: true,
});

export interface ResolvedModelFiles {
  /** 'local' for a folder on disk, 'hub' for a repository downloaded into the cache. */
  source: 'local' | 'hub';
  /** The folder or the Hub id as given. */
  idOrPath: string;
  /** Each requested path -> its local file, or undefined for an optional file that does not exist. */
  files: Record<string, string | undefined>;
}

function looksLikePath(value: string): boolean {
  return (
    value.startsWith('.') ||
    value.startsWith('/') ||
    value.startsWith('~') ||
    value.includes('\\') ||
    /^[a-zA-Z]:/.test(value) ||
    value.split('/').length > 2
  );
}

/** Whether `idOrPath` names a local folder (it exists) rather than a Hub id. */
export function isLocalModel(idOrPath: string): boolean {
  return existsSync(idOrPath);
}

/** A short listing of a local folder for error messages (files and `onnx/` files). */
export function describeFolder(dir: string): string {
  const list = (sub: string) => {
    const path = join(dir, sub);
    if (!existsSync(path) || !statSync(path).isDirectory()) return [];
    return readdirSync(path, { withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => (sub ? `${sub}/${entry.name}` : entry.name));
  };
  const files = [...list(''), ...list('onnx')].sort();
  return files.length ? files.join(', ') : 'nothing';
}

function normalizeRequest(request: FileRequest): { path: string; optional: boolean } {
  return typeof request === 'string'
    ? { path: request, optional: false }
    : { path: request.path, optional: request.optional ?? false };
}

/**
 * Local paths for files of a model: a folder on disk is used as is; anything else is a Hub id (`org/name`)
 * whose files come from the Hub cache, downloaded when missing (unless `localFilesOnly` / HF_HUB_OFFLINE=1).
 *
 * @example
 * const { files } = await resolveModelFiles('google/vit-base-patch16-224', ['config.json', 'onnx/model.onnx']);
 */
export async function resolveModelFiles(
  idOrPath: string,
  requests: readonly FileRequest[],
  options: ResolveOptions = {},
): Promise<ResolvedModelFiles> {
  if (typeof idOrPath !== 'string' || idOrPath === '') {
    throw new InvalidArgumentError(`expected a model id or folder path, got ${JSON.stringify(idOrPath)}`);
  }
  const files: Record<string, string | undefined> = {};
  if (isLocalModel(idOrPath)) {
    const dir = resolve(idOrPath);
    if (!statSync(dir).isDirectory()) {
      throw new ModelNotFoundError(`${idOrPath} is a file; expected a model folder or a Hub id`);
    }
    for (const { path, optional } of requests.map(normalizeRequest)) {
      const file = join(dir, ...path.split('/'));
      if (existsSync(file)) files[path] = file;
      else if (optional) files[path] = undefined;
      else
        throw new ModelNotFoundError(
          `${path} not found in the model folder ${dir} (it has: ${describeFolder(dir)})`,
        );
    }
    return { source: 'local', idOrPath, files };
  }
  if (looksLikePath(idOrPath) || !isValidRepoId(idOrPath)) {
    throw new ModelNotFoundError(
      `${idOrPath} is neither an existing folder nor a Hub model id ('org/name'); check the path`,
    );
  }
  // One file after another: the first also records the revision's commit, which the others then reuse.
  for (const { path, optional } of requests.map(normalizeRequest)) {
    files[path] = await hubDownload(idOrPath, path, { ...options, optional });
  }
  return { source: 'hub', idOrPath, files };
}

/** Resolves the first of several candidate paths that exists (e.g. `onnx/model.onnx`, then `model.onnx`). */
export async function resolveFirstModelFile(
  idOrPath: string,
  candidates: readonly string[],
  options: ResolveOptions = {},
): Promise<string> {
  for (const candidate of candidates) {
    const { files } = await resolveModelFiles(idOrPath, [{ path: candidate, optional: true }], options);
    if (files[candidate]) return files[candidate]!;
  }
  const listing = isLocalModel(idOrPath) ? ` (it has: ${describeFolder(resolve(idOrPath))})` : '';
  throw new ModelNotFoundError(`${idOrPath} has none of ${candidates.join(', ')}${listing}`);
}
