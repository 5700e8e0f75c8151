/**
 * One log segment: `<base>.log` plus its offset and time indexes (in memory while the segment
 * is active, in `.index` / `.timeindex` files once it is closed). The fields describe what has
 * been WRITTEN to the OS; bytes still queued for writing are tracked by PartitionLog.
 */
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import {
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchSize,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_MAGIC,
  OFFSET_MAX_TIMESTAMP,
  readInt53,
} from '../protocol/record-batch.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';

/** Bytes of a batch header needed to learn its offsets, size and max timestamp. */
export const HEADER_PEEK = OFFSET_MAX_TIMESTAMP + 8;
/** Chunk read when scanning batch headers forward from an index position. */
const SCAN_CHUNK = 16 * 1024;

/** Kafka's file name for a base offset: 20 digits, zero padded. */
export function offsetFileName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

/** The base offset of a segment file name (`00000000000000000042.log` → 42), or null. */
export function parseSegmentFileName(name: string, suffix = LOG_SUFFIX): number | null {
  if (!name.endsWith(suffix)) return null;
  const stem = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(stem)) return null;
  const n = Number(stem);
  return Number.isSafeInteger(n) ? n : null;
}

/** Low-level writes, injectable so tests can simulate a full disk. */
export interface SegmentIo {
  /** Positional vectored write; returns the bytes written (a short count is a failure). */
  writev(handle: FileHandle, buffers: Buffer[], position: number): Promise<number>;
  truncate(handle: FileHandle, length: number): Promise<void>;
}

export const defaultSegmentIo: SegmentIo = {
  async writev(handle, buffers, position) {
    return (await handle.writev(buffers, position)).bytesWritten;
  },
  truncate: (handle, length) => handle.truncate(length),
};

/** The header fields of one batch on disk. */
export interface BatchHeader {
  pos: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export class SegmentCorruptError extends Error {
  constructor(file: string, pos: number, reason: string) {
    super(`${file}: ${reason} at byte ${pos}`);
    this.name = 'SegmentCorruptError';
  }
}

/** Reads a batch header at `at` of `buf` (which must hold HEADER_PEEK bytes there). */
export function peekHeader(buf: Buffer, at: number, pos: number): BatchHeader {
  const baseOffset = readInt53(buf, at);
  return {
    pos,
    size: LOG_OVERHEAD + buf.readInt32BE(at + 8),
    baseOffset,
    lastOffset: baseOffset + buf.readInt32BE(at + OFFSET_LAST_OFFSET_DELTA),
    maxTimestamp: readInt53(buf, at + OFFSET_MAX_TIMESTAMP),
  };
}

export class Segment {
  readonly dir: string;
  readonly baseOffset: number;
  /** Open file; null until the roll that creates it has run. */
  handle: FileHandle | null = null;

  /** Bytes written to the OS (the readable part of the file). */
  size = 0;
  /** Offset after the last written batch (baseOffset when empty; an upper bound after loading index files). */
  nextOffset: number;
  /** Largest batch max-timestamp written, -1 if none, and the last offset of that batch. */
  maxTimestamp = -1;
  offsetOfMaxTimestamp = -1;
  index: OffsetIndex;
  timeIndex: TimeIndex;
  bytesSinceIndexEntry = 0;
  /** When the segment got its first batch (for segment.ms), or null while empty. */
  rollBaseMs: number | null = null;

  /** Closed: its data is synced and its index files are written; it never changes again. */
  sealed = false;
  /** Writes completed / covered by a completed fdatasync (see PartitionLog.sync). */
  writeSeq = 0;
  syncedSeq = 0;
  syncing: { seq: number; promise: Promise<void> } | null = null;
  /** Bytes written since the last background writeback was started (see PartitionLog). */
  bytesSinceWriteback = 0;

  // Bytes and batches assigned to this segment but not yet written (owned by PartitionLog).
  assignedSize = 0;
  pendingBatches = 0;

  /**
   * Where the batch after the last one a Fetch read starts: the next fetch of a consumer
   * reading along usually asks for exactly that offset (see log-reads.ts readSegment). A
   * guess, checked against the batch found there, never trusted blindly.
   */
  readHint: { offset: number; pos: number } | null = null;

  #readers = 0;
  #drained: (() => void) | null = null;

  constructor(dir: string, baseOffset: number, indexEntries: { offset: number; time: number }) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.index = new OffsetIndex(baseOffset, indexEntries.offset);
    this.timeIndex = new TimeIndex(baseOffset, indexEntries.time);
  }

  get name(): string {
    return offsetFileName(this.baseOffset);
  }

  get logPath(): string {
    return path.join(this.dir, this.name + LOG_SUFFIX);
  }

  get indexPath(): string {
    return path.join(this.dir, this.name + INDEX_SUFFIX);
  }

  get timeIndexPath(): string {
    return path.join(this.dir, this.name + TIME_INDEX_SUFFIX);
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  /**
   * Accounts one written batch at `pos`: max timestamp, and Kafka's sparse index rule — an
   * offset-index entry (and a time-index entry if the max timestamp grew) when more than
   * index.interval.bytes were written since the last entry.
   */
  addBatch(pos: number, size: number, lastOffset: number, maxTimestamp: number, indexIntervalBytes: number): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceIndexEntry > indexIntervalBytes) {
      this.index.append(lastOffset, pos);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += size;
    this.nextOffset = lastOffset + 1;
  }

  /** Index file contents for a closing segment: the time index gets its final (max) entry. */
  indexFiles(): { path: string; data: Buffer }[] {
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    return [
      { path: this.indexPath, data: this.index.toBuffer() },
      { path: this.timeIndexPath, data: this.timeIndex.toBuffer() },
    ];
  }

  /** Runs `fn` as a reader: close/delete waits for readers to finish. */
  async withReader<T>(fn: (handle: FileHandle) => Promise<T>): Promise<T> {
    const handle = this.handle;
    if (!handle) throw new Error(`segment ${this.logPath} is not open`);
    this.#readers++;
    try {
      return await fn(handle);
    } finally {
      if (--this.#readers === 0 && this.#drained) {
        this.#drained();
        this.#drained = null;
      }
    }
  }

  /** Resolves once no read is in progress. */
  readersDone(): Promise<void> {
    if (this.#readers === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.#drained;
      this.#drained = () => {
        prev?.();
        resolve();
      };
    });
  }

  /** Reads exactly `length` bytes at `pos` (fewer only at end of file). */
  static async readAt(
    handle: FileHandle,
    pos: number,
    length: number,
    alloc: (size: number) => Buffer = Buffer.allocUnsafe,
  ): Promise<Buffer> {
    const buf = alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, pos + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === length ? buf : buf.subarray(0, done);
  }

  /**
   * Finds the first batch at or after byte `from` whose last offset is >= `offset` (or, with
   * `byTimestamp`, whose max timestamp is >= the target), looking only below byte `end`.
   * Reads headers in chunks. Returns null when no such batch exists below `end`.
   */
  async findBatch(
    handle: FileHandle,
    from: number,
    end: number,
    match: (h: BatchHeader) => boolean,
  ): Promise<BatchHeader | null> {
    let pos = from;
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = 0;
    while (pos < end) {
      if (end - pos < BATCH_HEADER_SIZE) throw new SegmentCorruptError(this.logPath, pos, 'truncated batch header');
      if (pos < chunkStart || pos + HEADER_PEEK > chunkStart + chunk.length) {
        chunk = await Segment.readAt(handle, pos, Math.min(SCAN_CHUNK, end - pos));
        chunkStart = pos;
        if (chunk.length < HEADER_PEEK) throw new SegmentCorruptError(this.logPath, pos, 'short read of a batch header');
      }
      const at = pos - chunkStart;
      const h = peekHeader(chunk, at, pos);
      if (chunk.readInt8(at + OFFSET_MAGIC) !== CURRENT_MAGIC || h.size < BATCH_HEADER_SIZE || pos + h.size > end) {
        throw new SegmentCorruptError(this.logPath, pos, 'invalid batch header');
      }
      if (match(h)) return h;
      pos += h.size;
    }
    return null;
  }

  /** Opens an existing segment file for reading and writing. */
  async openExisting(): Promise<number> {
    this.handle = await fs.open(this.logPath, 'r+');
    return (await this.handle.stat()).size;
  }

  /** Creates the segment file (an empty leftover of a failed roll is reused). */
  async create(): Promise<void> {
    try {
      this.handle = await fs.open(this.logPath, 'wx+');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const handle = await fs.open(this.logPath, 'r+');
      const { size } = await handle.stat();
      if (size !== 0) {
        await handle.close();
        throw new Error(`cannot create segment ${this.logPath}: a non-empty file exists`);
      }
      this.handle = handle;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close();
  }

  /**
   * Renames the files to `.deleted`, waits for reads in progress, closes and removes them
   * (file.delete.delay.ms is not waited for; see README.md).
   */
  async delete(): Promise<void> {
    await this.removeDeleted(await this.markDeleted());
  }

  /** Renames the segment's files to `.deleted` (recovery removes such files); returns the new names. */
  async markDeleted(): Promise<string[]> {
    const renamed: string[] = [];
    for (const f of [this.logPath, this.indexPath, this.timeIndexPath]) {
      try {
        await fs.rename(f, f + DELETED_SUFFIX);
        renamed.push(f + DELETED_SUFFIX);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return renamed;
  }

  /** Waits for the reads in progress, closes the file and removes the renamed files. */
  async removeDeleted(renamed: string[]): Promise<void> {
    await this.readersDone();
    await this.close();
    for (const f of renamed) await fs.rm(f, { force: true });
  }
}

/** Where each batch of a record set to append is, as the produce path's validation reports it. */
export interface AppendBatchInfo {
  pos: number;
  size: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
}

/** Header walk of a record set given without batch summaries; a string says what is wrong. */
export function walkBatches(buf: Buffer): AppendBatchInfo[] | string {
  const out: AppendBatchInfo[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < BATCH_HEADER_SIZE) return `truncated batch header at byte ${pos}`;
    if (buf.readInt8(pos + OFFSET_MAGIC) !== CURRENT_MAGIC) return `invalid magic at byte ${pos}`;
    const size = batchSize(buf, pos);
    if (size < BATCH_HEADER_SIZE || pos + size > buf.length) return `invalid batch length at byte ${pos}`;
    out.push({ pos, size, lastOffsetDelta: batchLastOffsetDelta(buf, pos), maxTimestamp: batchMaxTimestamp(buf, pos) });
    pos += size;
  }
  return out.length > 0 ? out : 'empty record set';
}

export function coversExactly(batches: AppendBatchInfo[], length: number): boolean {
  let pos = 0;
  for (const b of batches) {
    if (b.pos !== pos || b.size < BATCH_HEADER_SIZE || b.lastOffsetDelta < 0) return false;
    pos += b.size;
  }
  return batches.length > 0 && pos === length;
}
