export { openModelRepo } from './model-repo.js';
export type { ModelRepo, OpenModelRepoOptions } from './model-repo.js';
export {
  RESOLVE_OPTIONS,
  resolveModelFiles,
  resolveFirstModelFile,
  isLocalModel,
  describeFolder,
} from './resolve.js';
export type { FileRequest, ResolveOptions, ResolvedModelFiles } from './resolve.js';
export { hubDownload, isValidRepoId } from './hub-file.js';
export type { HubDownloadOptions } from './hub-file.js';
export type { DownloadProgress } from './transfer.js';
export { HubCache, repoFolderName } from './cache.js';
export { defaultCacheDir, hubEndpoint, hubToken, isOffline } from './environment.js';
export { lockKind } from './lock.js';
export type { LockKind } from './lock.js';
export { formatProgress, progressBar } from './progress-bar.js';
export type { ProgressBarOptions } from './progress-bar.js';
export { readJsonObject } from './read-json.js';
