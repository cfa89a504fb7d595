import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

const TRUTHY = new Set(['1', 'on', 'yes', 'true']);

function huggingFaceHome(env: Env): string {
  return env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'huggingface');
}

/**
 * The Hub cache folder, resolved as huggingface_hub resolves it (HF_HUB_CACHE, then the legacy
 * HUGGINGFACE_HUB_CACHE, then HF_HOME/hub, then ~/.cache/huggingface/hub), so both share downloads.
 */
export function defaultCacheDir(env: Env = process.env): string {
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(huggingFaceHome(env), 'hub');
}

/** The Hub's address: HF_ENDPOINT, else https://huggingface.co (no trailing slash). */
export function hubEndpoint(env: Env = process.env): string {
  return (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
}

/** True when HF_HUB_OFFLINE asks for no network access at all. */
export function isOffline(env: Env = process.env): boolean {
  return TRUTHY.has((env.HF_HUB_OFFLINE ?? '').toLowerCase());
}

/**
 * The access token: HF_TOKEN (or the legacy HUGGING_FACE_HUB_TOKEN), else the file `huggingface-cli login`
 * writes (HF_TOKEN_PATH, default HF_HOME/token).
 */
export function hubToken(env: Env = process.env): string | undefined {
  const fromEnv = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const file = env.HF_TOKEN_PATH || join(huggingFaceHome(env), 'token');
  try {
    if (existsSync(file)) return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    // An unreadable token file means no token, as in huggingface_hub.
  }
  return undefined;
}
