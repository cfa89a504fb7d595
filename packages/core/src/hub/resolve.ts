import { existsSync } from 'node:fs';
import { ModelNotFoundError } from '../errors.js';
import { optionNames } from '../validation/option-names.js';
import {
  type ModelRepo,
  type OpenModelRepoOptions,
  describeFolder,
  openModelRepo,
  summarizeFiles,
} from './model-repo.js';

/** A file to resolve: its path in the repository, optionally allowed to be missing. */
export type FileRequest = string | { path: string; optional?: boolean };

/** How a model's files are found: Hub and cache settings, or an already opened `repo` to share its snapshot. */
export interface ResolveOptions extends OpenModelRepoOptions {}

/** The keys of `ResolveOptions`: what every `fromPretrained` of a config, processor or tokenizer accepts. */
export const RESOLVE_OPTIONS = optionNames<ResolveOptions>({
  revision: true,
  cacheDir: true,
  localFilesOnly: true,
  token: true,
  endpoint: true,
  onProgress: true,
  idleTimeoutMs: true,
  metadataTimeoutMs: true,
  retries: true,
  retryDelayMs: true,
  maxRetryDelayMs: true,
  signal: true,
  repo: true,
});

export interface ResolvedModelFiles {
  /** 'local' for a folder on disk, 'hub' for a repository downloaded into the cache. */
  source: 'local' | 'hub';
  /** The folder or the Hub id as given. */
  idOrPath: string;
  /** Each requested path -> its local file, or undefined for an optional file that does not exist. */
  files: Record<string, string | undefined>;
}

export { describeFolder };

/** Whether `idOrPath` names a local folder (it exists) rather than a Hub id. */
export function isLocalModel(idOrPath: string): boolean {
  return existsSync(idOrPath);
}

function normalizeRequest(request: FileRequest): { path: string; optional: boolean } {
  return typeof request === 'string'
    ? { path: request, optional: false }
    : { path: request.path, optional: request.optional ?? false };
}

/**
 * Local paths for files of a model: a folder on disk is used as is; anything else is a Hub id (`org/name`)
 * whose files come from the Hub cache at one commit, downloaded when missing (unless `localFilesOnly` /
 * HF_HUB_OFFLINE=1). Pass `repo` (from `openModelRepo`) to take them from a snapshot already opened.
 *
 * @example
 * const { files } = await resolveModelFiles('Xenova/vit-base-patch16-224', ['config.json', 'onnx/model.onnx']);
 */
export async function resolveModelFiles(
  idOrPath: string,
  requests: readonly FileRequest[],
  options: ResolveOptions = {},
): Promise<ResolvedModelFiles> {
  const repo = await openModelRepo(idOrPath, options);
  const files: Record<string, string | undefined> = {};
  for (const { path, optional } of requests.map(normalizeRequest)) {
    files[path] = await repo.file(path, { optional });
  }
  return { source: repo.source, idOrPath, files };
}

/** The first of several candidate paths the repository has (e.g. `onnx/model.onnx`, then `model.onnx`). */
export async function firstModelFile(repo: ModelRepo, candidates: readonly string[]): Promise<string> {
  const found = candidates.find((candidate) => repo.has(candidate));
  if (found !== undefined) return repo.file(found);
  // Offline, a candidate the cache lacks may still exist on the Hub: say what is missing and why it was not asked.
  if (!repo.complete) await repo.file(candidates[0]!);
  const listing = repo.source === 'local' ? describeFolder(repo.idOrPath) : summarizeFiles(repo.files);
  throw new ModelNotFoundError(`${repo.idOrPath} has none of ${candidates.join(', ')} (it has: ${listing})`);
}

/** Resolves the first of several candidate paths that exists (e.g. `onnx/model.onnx`, then `model.onnx`). */
export async function resolveFirstModelFile(
  idOrPath: string,
  candidates: readonly string[],
  options: ResolveOptions = {},
): Promise<string> {
  return firstModelFile(await openModelRepo(idOrPath, options), candidates);
}
