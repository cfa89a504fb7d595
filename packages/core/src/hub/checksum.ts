import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export type ChecksumKind = 'sha256' | 'git-sha1';

/**
 * What a Hub etag can verify: LFS files have the sha256 of their content as etag, regular files the git blob id
 * (sha1 of "blob <size>\0" + content). Other etags (a proxy's, a CDN's) verify nothing.
 */
export function checksumKind(etag: string): ChecksumKind | undefined {
  if (/^[0-9a-f]{64}$/.test(etag)) return 'sha256';
  if (/^[0-9a-f]{40}$/.test(etag)) return 'git-sha1';
  return undefined;
}

/** The checksum of a file, of the kind an etag stands for. */
export async function fileChecksum(path: string, kind: ChecksumKind): Promise<string> {
  const hash = createHash(kind === 'sha256' ? 'sha256' : 'sha1');
  if (kind === 'git-sha1') hash.update(`blob ${(await stat(path)).size}\0`);
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The etag as the Hub means it: without the weak marker and quotes (`W/"abc"` -> `abc`). */
export function normalizeEtag(etag: string | null | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '') || undefined;
}
