/**
 * Reads and lookups over the segments of one partition log: Fetch's read (range checks, which
 * segment, storage errors) and ListOffsets by timestamp and MAX_TIMESTAMP. The work inside one
 * segment is log-reads.ts; PartitionLog's `read`, `offsetForTimestamp` and
 * `maxTimestampOffset` call these with a LogReadView of itself.
 */
import type { Logger } from '../common/logger.ts';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import type { Segment } from './segment.ts';
import { EMPTY_READ, maxTimestampInSegment, readSegment, segmentIndexFor, timestampInSegment, type ReadResult } from './log-reads.ts';

/** What the reads need of a PartitionLog (read live: they change while a read waits). */
export interface LogReadView {
  /** `<topic>-<partition>`, for messages. */
  readonly where: string;
  readonly logger: Logger;
  /** Oldest first; replaced, never mutated, so a read holds a snapshot. */
  segments(): readonly Segment[];
  logStartOffset(): number;
  /** The next offset to assign, and the end of what is written (the high watermark). */
  nextOffset(): number;
  writtenOffset(): number;
}

/** See PartitionLog.read (the caller has checked that the log is usable). */
export async function readLog(
  log: LogReadView,
  fetchOffset: number,
  maxBytes: number,
  opts: { minOneBatch?: boolean; maxOffset?: number },
): Promise<ReadResult> {
  const start = log.logStartOffset();
  const end = log.nextOffset();
  if (fetchOffset < start || fetchOffset > end) {
    throw new KafkaError(
      ErrorCode.OFFSET_OUT_OF_RANGE,
      `fetch offset ${fetchOffset} is out of range for ${log.where}: log start ${start}, log end ${end}`,
    );
  }
  const written = log.writtenOffset();
  const limit = Math.min(opts.maxOffset ?? written, written);
  if (fetchOffset >= limit) return EMPTY_READ;
  const minOne = opts.minOneBatch ?? true;
  const segments = log.segments();
  for (let i = segmentIndexFor(segments, fetchOffset); i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.baseOffset >= limit) break;
    if (!seg.handle) {
      if (fetchOffset < log.logStartOffset()) {
        throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `fetch offset ${fetchOffset} was deleted by retention`);
      }
      continue;
    }
    const size = seg.size;
    if (size === 0) continue;
    const got = await guard(log, seg, () =>
      seg.withReader((handle) => readSegment(seg, handle, { fetchOffset, end: size, maxBytes, minOne, limit })),
    );
    if (got) return got;
  }
  return EMPTY_READ;
}

/** Turns low-level read failures into KAFKA_STORAGE_ERROR (with a log line). */
async function guard<T>(log: LogReadView, seg: Segment, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KafkaError) throw err;
    log.logger.error('log read failed', { segment: seg.logPath, error: err as Error });
    throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `read of ${seg.logPath} failed: ${(err as Error).message}`);
  }
}

/** See PartitionLog.offsetForTimestamp (the caller has checked that the log is online). */
export async function offsetForTimestamp(log: LogReadView, timestampMs: number): Promise<{ offset: number; timestamp: number } | null> {
  for (const seg of log.segments()) {
    if (seg.maxTimestamp < timestampMs || !seg.handle || seg.size === 0) continue;
    const found = await guard(log, seg, () => timestampInSegment(seg, timestampMs));
    // Records below the log start offset (DeleteRecords) are gone: answer with the start.
    if (found) return found.offset < log.logStartOffset() ? { ...found, offset: log.logStartOffset() } : found;
  }
  return null;
}

/** See PartitionLog.maxTimestampOffset. */
export async function maxTimestampOffset(log: LogReadView): Promise<{ offset: number; timestamp: number } | null> {
  let best: Segment | null = null;
  for (const s of log.segments()) if (s.maxTimestamp >= 0 && (!best || s.maxTimestamp > best.maxTimestamp)) best = s;
  if (!best) return null;
  try {
    return await maxTimestampInSegment(best);
  } catch (err) {
    log.logger.debug('max timestamp lookup fell back to the batch level', { segment: best.logPath, error: err as Error });
    return { offset: best.offsetOfMaxTimestamp, timestamp: best.maxTimestamp };
  }
}
