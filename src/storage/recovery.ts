/**
 * Opening a partition directory: find the segments, load or rebuild their indexes, and scan
 * the last segment batch by batch (length, magic, offsets, CRC32C). A torn or garbage tail of
 * the last segment is truncated; an invalid batch followed by valid data, or any invalid
 * batch in a closed segment, is corruption in the middle of the log: LogCorruptionError, and
 * the partition is refused rather than silently cut (DESIGN.md §4).
 *
 * Why only the last segment is scanned: a segment is closed (rolled) only after its data has
 * been fdatasynced and its index files written atomically, before the next segment receives
 * any byte (see PartitionLog's roll). So after a crash only the last segment can hold a torn
 * tail. `verifyAll` scans every segment (a slower, thorough check).
 */
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import {
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  OFFSET_CRC,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_LEADER_EPOCH,
  OFFSET_MAGIC,
  computeBatchCrc,
  readInt53,
} from '../protocol/record-batch.ts';
import type { Logger } from '../common/logger.ts';
import type { Clock } from '../common/clock.ts';
import type { LogConfig } from './log-config.ts';
import { writeFilesAtomic, fsyncDir } from './atomic-file.ts';
import { IndexFormatError, OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { recoverSwaps } from './segment-swap.ts';
import {
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LOG_SUFFIX,
  Segment,
  TIME_INDEX_SUFFIX,
  parseSegmentFileName,
} from './segment.ts';

/** The log of a partition is damaged in a way that recovery must not repair by cutting. */
export class LogCorruptionError extends Error {
  readonly file: string;
  readonly position: number;
  constructor(file: string, position: number, reason: string) {
    super(`log corruption in ${file} at byte ${position}: ${reason}`);
    this.name = 'LogCorruptionError';
    this.file = file;
    this.position = position;
  }
}

const READ_CHUNK = 1024 * 1024;
const INT32_MAX = 0x7fff_ffff;

export interface ScanResult {
  /** Bytes of valid batches from the start of the file. */
  validBytes: number;
  /** Why scanning stopped before the end of the file, or null. */
  problem: string | null;
  /** (epoch, base offset) of each batch whose partitionLeaderEpoch is newer than the previous. */
  epochs: { epoch: number; startOffset: number }[];
  firstBatchMaxTimestamp: number | null;
}

/**
 * Scans `segment` from byte 0 to `fileSize`, validating every batch and rebuilding the
 * segment's in-memory indexes and counters (size, nextOffset, max timestamp). Stops at the
 * first invalid batch and reports it; the segment's fields then describe the valid prefix.
 */
export async function scanSegment(
  handle: FileHandle,
  segment: Segment,
  fileSize: number,
  config: LogConfig,
): Promise<ScanResult> {
  const result: ScanResult = { validBytes: 0, problem: null, epochs: [], firstBatchMaxTimestamp: null };
  segment.index = new OffsetIndex(segment.baseOffset, OffsetIndex.maxEntriesFor(config.segmentIndexBytes));
  segment.timeIndex = new TimeIndex(segment.baseOffset, TimeIndex.maxEntriesFor(config.segmentIndexBytes));
  segment.size = 0;
  segment.nextOffset = segment.baseOffset;
  segment.maxTimestamp = -1;
  segment.offsetOfMaxTimestamp = -1;
  segment.bytesSinceIndexEntry = 0;
  // Indexes grow as needed while scanning an existing file; a full index only forces a roll.
  segment.index.maxEntries = Number.MAX_SAFE_INTEGER;
  segment.timeIndex.maxEntries = Number.MAX_SAFE_INTEGER;
  let chunk: Buffer = Buffer.alloc(0);
  let chunkStart = 0;
  let pos = 0;
  let lastEpoch = -1;
  while (pos < fileSize) {
    const left = fileSize - pos;
    if (left < BATCH_HEADER_SIZE) {
      result.problem = `${left} trailing bytes, less than a batch header`;
      break;
    }
    if (pos + BATCH_HEADER_SIZE > chunkStart + chunk.length) {
      chunk = await Segment.readAt(handle, pos, Math.min(READ_CHUNK, left));
      chunkStart = pos;
    }
    let at = pos - chunkStart;
    const problem = headerProblem(chunk, at, segment.nextOffset, segment.baseOffset, left);
    if (problem) {
      result.problem = problem;
      break;
    }
    const size = LOG_OVERHEAD + chunk.readInt32BE(at + 8);
    if (at + size > chunk.length) {
      chunk = await Segment.readAt(handle, pos, Math.max(size, Math.min(READ_CHUNK, left)));
      chunkStart = pos;
      at = 0;
    }
    if (chunk.readUInt32BE(at + OFFSET_CRC) !== computeBatchCrc(chunk, at, size)) {
      result.problem = 'CRC mismatch';
      break;
    }
    const baseOffset = readInt53(chunk, at);
    const lastOffset = baseOffset + chunk.readInt32BE(at + OFFSET_LAST_OFFSET_DELTA);
    const maxTimestamp = readInt53(chunk, at + 35);
    const epoch = chunk.readInt32BE(at + OFFSET_LEADER_EPOCH);
    if (epoch > lastEpoch) {
      result.epochs.push({ epoch, startOffset: baseOffset });
      lastEpoch = epoch;
    }
    result.firstBatchMaxTimestamp ??= maxTimestamp;
    segment.addBatch(pos, size, lastOffset, maxTimestamp, config.indexIntervalBytes);
    pos += size;
    segment.size = pos;
  }
  result.validBytes = pos;
  segment.index.maxEntries = Math.max(segment.index.entries, OffsetIndex.maxEntriesFor(config.segmentIndexBytes));
  segment.timeIndex.maxEntries = Math.max(segment.timeIndex.entries, TimeIndex.maxEntriesFor(config.segmentIndexBytes));
  return result;
}

/** Why the header at `at` is not a plausible next batch, or null. */
function headerProblem(buf: Buffer, at: number, expectedOffset: number, segmentBase: number, left: number): string | null {
  const magic = buf.readInt8(at + OFFSET_MAGIC);
  const length = buf.readInt32BE(at + 8);
  const baseOffset = readInt53(buf, at);
  const delta = buf.readInt32BE(at + OFFSET_LAST_OFFSET_DELTA);
  if (magic !== CURRENT_MAGIC) return `invalid magic ${magic}`;
  if (length < BATCH_HEADER_SIZE - LOG_OVERHEAD) return `invalid batch length ${length}`;
  if (baseOffset < expectedOffset || delta < 0 || baseOffset + delta - segmentBase > INT32_MAX) {
    return `batch offsets ${baseOffset}..${baseOffset + delta} do not follow offset ${expectedOffset - 1}`;
  }
  if (LOG_OVERHEAD + length > left) return `batch of ${LOG_OVERHEAD + length} bytes extends past the end of the file`;
  return null;
}

/**
 * Looks for a complete, CRC-valid batch starting anywhere in (from, fileSize) with offsets
 * after `expectedOffset`: if one exists, the damage at `from` is not a torn tail.
 */
export async function findValidBatchAfter(
  handle: FileHandle,
  from: number,
  fileSize: number,
  expectedOffset: number,
  segmentBase: number,
): Promise<number> {
  let start = from + 1;
  while (start + BATCH_HEADER_SIZE <= fileSize) {
    const chunk = await Segment.readAt(handle, start, Math.min(READ_CHUNK + BATCH_HEADER_SIZE, fileSize - start));
    const last = chunk.length - BATCH_HEADER_SIZE;
    for (let i = 0; i <= last; i++) {
      if (chunk[i + OFFSET_MAGIC] !== CURRENT_MAGIC) continue;
      const left = fileSize - (start + i);
      if (headerProblem(chunk, i, expectedOffset, segmentBase, left)) continue;
      const size = LOG_OVERHEAD + chunk.readInt32BE(i + 8);
      const batch = i + size <= chunk.length ? chunk.subarray(i, i + size) : await Segment.readAt(handle, start + i, size);
      if (batch.length === size && batch.readUInt32BE(OFFSET_CRC) === computeBatchCrc(batch, 0, size)) return start + i;
    }
    start += last + 1;
  }
  return -1;
}

export interface RecoveredSegments {
  segments: Segment[];
  /** (epoch, start offset) pairs seen while scanning, for the leader-epoch cache. */
  epochs: { epoch: number; startOffset: number }[];
}

/**
 * Opens every segment of a partition directory (creating the first one for an empty
 * directory), finishes interrupted segment swaps (segment-swap.ts), removes leftovers
 * (`.deleted`, `.tmp`, orphan index files), loads or rebuilds
 * indexes and recovers the tail of the last segment.
 */
export async function recoverSegments(opts: {
  dir: string;
  config: LogConfig;
  clock: Clock;
  logger: Logger;
  verifyAll?: boolean;
}): Promise<RecoveredSegments> {
  const { dir, config, logger } = opts;
  await recoverSwaps(dir, {
    config,
    logger,
    async nextOffsetOf(seg) {
      const { size } = await seg.handle!.stat();
      const scan = await scanSegment(seg.handle!, seg, size, config);
      if (scan.problem !== null || scan.validBytes !== size) {
        throw new LogCorruptionError(seg.logPath + '.swap', scan.validBytes, `${scan.problem ?? 'invalid data'} in a committed cleaned segment`);
      }
      return seg.nextOffset;
    },
  });
  const names = await fs.readdir(dir);
  const bases: number[] = [];
  const present = new Set(names);
  for (const name of names) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith('.tmp')) {
      await fs.rm(path.join(dir, name), { force: true, recursive: true });
      continue;
    }
    const base = parseSegmentFileName(name);
    if (base !== null) bases.push(base);
  }
  for (const name of names) {
    const base = parseSegmentFileName(name, INDEX_SUFFIX) ?? parseSegmentFileName(name, TIME_INDEX_SUFFIX);
    if (base !== null && !bases.includes(base)) {
      logger.warn('removing an index file without a log segment', { file: name });
      await fs.rm(path.join(dir, name), { force: true });
    }
  }
  bases.sort((a, b) => a - b);
  const entries = {
    offset: OffsetIndex.maxEntriesFor(config.segmentIndexBytes),
    time: TimeIndex.maxEntriesFor(config.segmentIndexBytes),
  };
  const segments: Segment[] = [];
  const epochs: { epoch: number; startOffset: number }[] = [];
  try {
    if (bases.length === 0) {
      const seg = new Segment(dir, 0, entries);
      await seg.create();
      await fsyncDir(dir);
      segments.push(seg);
      return { segments, epochs };
    }
    for (let i = 0; i < bases.length; i++) {
      const seg = new Segment(dir, bases[i]!, entries);
      segments.push(seg);
      const fileSize = await seg.openExisting();
      const isLast = i === bases.length - 1;
      const endOffset = isLast ? Number.MAX_SAFE_INTEGER : bases[i + 1]!;
      if (isLast) {
        await recoverLastSegment(seg, fileSize, opts, epochs);
        continue;
      }
      const name = seg.name;
      let loaded = false;
      if (!opts.verifyAll && present.has(name + INDEX_SUFFIX) && present.has(name + TIME_INDEX_SUFFIX)) {
        loaded = await loadIndexes(seg, fileSize, endOffset, config, logger);
      }
      if (!loaded) {
        const scan = await scanSegment(seg.handle!, seg, fileSize, config);
        if (scan.problem !== null || scan.validBytes !== fileSize) {
          throw new LogCorruptionError(seg.logPath, scan.validBytes, `${scan.problem ?? 'invalid data'} in a closed segment`);
        }
        if (seg.nextOffset > endOffset) {
          throw new LogCorruptionError(seg.logPath, 0, `offsets reach ${seg.nextOffset - 1}, past the next segment's base offset ${endOffset}`);
        }
        if (!opts.verifyAll) logger.info('rebuilt the indexes of a segment', { segment: seg.logPath });
        await writeFilesAtomic(seg.indexFiles());
      }
      seg.sealed = true;
    }
  } catch (err) {
    await Promise.all(segments.map((s) => s.close().catch(() => {})));
    throw err;
  }
  return { segments, epochs };
}

/** Loads a closed segment's index files; false when they are unreadable or inconsistent. */
async function loadIndexes(seg: Segment, fileSize: number, endOffset: number, config: LogConfig, logger: Logger): Promise<boolean> {
  try {
    const [idx, tidx] = await Promise.all([fs.readFile(seg.indexPath), fs.readFile(seg.timeIndexPath)]);
    seg.index = OffsetIndex.fromBuffer(seg.baseOffset, idx, {
      maxEntries: OffsetIndex.maxEntriesFor(config.segmentIndexBytes),
      logSize: fileSize,
      endOffset,
    });
    seg.timeIndex = TimeIndex.fromBuffer(seg.baseOffset, tidx, {
      maxEntries: TimeIndex.maxEntriesFor(config.segmentIndexBytes),
      endOffset,
    });
  } catch (err) {
    if (!(err instanceof IndexFormatError) && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    logger.warn('index files are inconsistent; rebuilding them', { segment: seg.logPath, error: err as Error });
    return false;
  }
  seg.size = fileSize;
  seg.nextOffset = endOffset;
  const last = seg.timeIndex.last;
  seg.maxTimestamp = last?.timestamp ?? -1;
  seg.offsetOfMaxTimestamp = last?.offset ?? -1;
  return true;
}

async function recoverLastSegment(
  seg: Segment,
  fileSize: number,
  opts: { config: LogConfig; clock: Clock; logger: Logger },
  epochs: { epoch: number; startOffset: number }[],
): Promise<void> {
  const handle = seg.handle!;
  const scan = await scanSegment(handle, seg, fileSize, opts.config);
  epochs.push(...scan.epochs);
  if (scan.problem !== null) {
    const at = scan.validBytes;
    const next = await findValidBatchAfter(handle, at, fileSize, seg.nextOffset, seg.baseOffset);
    if (next >= 0) {
      throw new LogCorruptionError(seg.logPath, at, `${scan.problem}, followed by a valid batch at byte ${next}`);
    }
    const zeros = await allZero(handle, at, fileSize);
    opts.logger.warn('truncating the torn tail of the log', {
      segment: seg.logPath,
      validBytes: at,
      truncatedBytes: fileSize - at,
      reason: zeros ? 'zero-filled tail' : scan.problem,
    });
    await handle.truncate(at);
    await handle.datasync();
  }
  const now = opts.clock.now();
  const first = scan.firstBatchMaxTimestamp;
  seg.rollBaseMs = seg.size === 0 ? null : first !== null && first >= 0 && first <= now ? first : now;
}

async function allZero(handle: FileHandle, from: number, to: number): Promise<boolean> {
  for (let pos = from; pos < to; pos += READ_CHUNK) {
    const buf = await Segment.readAt(handle, pos, Math.min(READ_CHUNK, to - pos));
    for (let i = 0; i < buf.length; i++) if (buf[i] !== 0) return false;
  }
  return true;
}
