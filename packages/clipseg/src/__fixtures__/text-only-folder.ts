import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@ortvision/core/testing';

/**
 * A temporary model folder laid out as Hub ONNX repos ship CLIPSeg today: the clipseg fixture's config, processor
 * and tokenizer files with `onnx/model.onnx` only (symlinks). `remove()` deletes it.
 */
export async function textOnlyFolder(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const source = fixturePath('clipseg');
  const dir = await mkdtemp(join(tmpdir(), 'ortvision-clipseg-'));
  await mkdir(join(dir, 'onnx'));
  const files = [
    'config.json',
    'preprocessor_config.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'onnx/model.onnx',
  ];
  await Promise.all(files.map((file) => symlink(join(source, file), join(dir, file))));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
