import type { FileHandle } from 'node:fs/promises';
import { CheckpointError } from '../errors.js';
import { readInto } from './files.js';

/** One entry of a zip's central directory. */
export interface ZipEntry {
  readonly name: string;
  /** 0 = stored (uncompressed), 8 = deflate, ... */
  readonly method: number;
  readonly flags: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** Up to `length` bytes from `position` (fewer at the end of the file). */
async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  return buffer.subarray(0, await readInto(handle, buffer, position));
}

function u64(buffer: Buffer, offset: number, file: string): number {
  const value = buffer.readBigUInt64LE(offset);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CheckpointError(`${file}: a zip64 field holds ${value}, beyond what a file can be`);
  }
  return Number(value);
}

/**
 * Reads a zip's central directory (zip64 included: torch writes zip64 records for archives over 4 GiB) without
 * reading any entry's data. A file whose end-of-directory record is missing is truncated or not a zip; a
 * directory that points outside the file is a `CheckpointError` here rather than garbage later.
 */
export async function readZipDirectory(
  handle: FileHandle,
  file: string,
  fileSize: number,
): Promise<ZipEntry[]> {
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tail = await readAt(handle, fileSize - tailLength, tailLength);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (
      tail.readUInt32LE(i) === EOCD_SIGNATURE &&
      i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length
    ) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new CheckpointError(
      `${file} has no zip end-of-directory record: it is truncated, or not a torch.save zip checkpoint`,
    );
  }
  const eocdOffset = fileSize - tailLength + eocd;
  let count = tail.readUInt16LE(eocd + 10);
  let directorySize = tail.readUInt32LE(eocd + 12);
  let directoryOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
    // Zip64: a locator sits just before the end record and points at the zip64 end record.
    const locatorOffset = eocdOffset - 20;
    const locator = locatorOffset >= 0 ? await readAt(handle, locatorOffset, 20) : Buffer.alloc(0);
    if (locator.length < 20 || locator.readUInt32LE(0) !== ZIP64_LOCATOR_SIGNATURE) {
      throw new CheckpointError(
        `${file}: the zip needs zip64 records but has no zip64 locator: it is corrupt`,
      );
    }
    const recordOffset = u64(locator, 8, file);
    const record = await readAt(handle, recordOffset, 56);
    if (record.length < 56 || record.readUInt32LE(0) !== ZIP64_EOCD_SIGNATURE) {
      throw new CheckpointError(`${file}: the zip64 end-of-directory record is missing: the zip is corrupt`);
    }
    count = u64(record, 32, file);
    directorySize = u64(record, 40, file);
    directoryOffset = u64(record, 48, file);
  }
  if (directoryOffset + directorySize > eocdOffset) {
    throw new CheckpointError(
      `${file}: the zip directory (bytes ${directoryOffset}..${directoryOffset + directorySize}) runs past its end record at ${eocdOffset}: the file is truncated or corrupt`,
    );
  }
  const directory = await readAt(handle, directoryOffset, directorySize);
  const entries: ZipEntry[] = [];
  let pos = 0;
  for (let index = 0; index < count; index++) {
    if (pos + 46 > directory.length || directory.readUInt32LE(pos) !== CENTRAL_SIGNATURE) {
      throw new CheckpointError(`${file}: zip directory entry ${index} of ${count} is corrupt`);
    }
    const flags = directory.readUInt16LE(pos + 8);
    const method = directory.readUInt16LE(pos + 10);
    let compressedSize = directory.readUInt32LE(pos + 20);
    let size = directory.readUInt32LE(pos + 24);
    const nameLength = directory.readUInt16LE(pos + 28);
    const extraLength = directory.readUInt16LE(pos + 30);
    const commentLength = directory.readUInt16LE(pos + 32);
    let localHeaderOffset = directory.readUInt32LE(pos + 42);
    if (pos + 46 + nameLength + extraLength + commentLength > directory.length) {
      throw new CheckpointError(
        `${file}: zip directory entry ${index} of ${count} runs past the directory: it is corrupt`,
      );
    }
    const name = directory.toString('utf8', pos + 46, pos + 46 + nameLength);
    // The zip64 extra field holds, in this order, only the fields whose 32-bit slot is 0xffffffff.
    let extra = pos + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = directory.readUInt16LE(extra);
      const length = directory.readUInt16LE(extra + 2);
      if (id === 0x0001) {
        let field = extra + 4;
        const next = (): number => {
          if (field + 8 > Math.min(extra + 4 + length, extraEnd)) {
            throw new CheckpointError(`${file}: the zip64 field of entry ${name} is too short`);
          }
          const value = u64(directory, field, file);
          field += 8;
          return value;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next();
      }
      extra += 4 + length;
    }
    if (localHeaderOffset + 30 + compressedSize > directoryOffset) {
      throw new CheckpointError(
        `${file}: zip entry ${name} (${compressedSize} bytes at ${localHeaderOffset}) runs into the directory: the file is corrupt`,
      );
    }
    entries.push({ name, method, flags, compressedSize, size, localHeaderOffset });
    pos = extraEnd + commentLength;
  }
  return entries;
}

/**
 * Where an entry's bytes start: after its local header, whose extra field may differ from the directory's copy
 * (torch pads it so that every record starts at a multiple of 64 bytes).
 */
export async function zipEntryDataOffset(handle: FileHandle, file: string, entry: ZipEntry): Promise<number> {
  const header = await readAt(handle, entry.localHeaderOffset, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_SIGNATURE) {
    throw new CheckpointError(
      `${file}: the local header of zip entry ${entry.name} is missing: the zip is corrupt`,
    );
  }
  return entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
}

/** The bytes of a stored (uncompressed) entry. */
export async function readStoredZipEntry(handle: FileHandle, file: string, entry: ZipEntry): Promise<Buffer> {
  const offset = await zipEntryDataOffset(handle, file, entry);
  const bytes = await readAt(handle, offset, entry.size);
  if (bytes.length < entry.size) {
    throw new CheckpointError(
      `${file}: zip entry ${entry.name} ends past the end of the file: it is truncated`,
    );
  }
  return bytes;
}
