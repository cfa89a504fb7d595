import { randomUUID } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';

/**
 * Writes `path` through `write`, into a file beside it that is renamed over `path` only once `write` resolved
 * and the bytes are flushed: a reader (or a crash, or a kill) never leaves a half-written `path`, and a failed
 * write removes its temporary file.
 */
export async function writeFileAtomically(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const handle = await open(temporary, 'wx');
  try {
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Writes all of `bytes` at the handle's current position (a single `write` may be partial). */
export async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.byteLength - done);
    done += bytesWritten;
  }
}

/** Opens a checkpoint file for reading; a file that cannot be opened is a `CheckpointError` naming it. */
export async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (error) {
    throw new CheckpointError(`cannot open ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** Reads into all of `bytes` from `position`, stopping early only at the end of the file; returns the count read. */
export async function readInto(handle: FileHandle, bytes: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < bytes.byteLength) {
    const { bytesRead } = await handle.read(bytes, done, bytes.byteLength - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}
