/**
 * Reading a segment: the batches for a Fetch, and the two ListOffsets lookups that look inside
 * one batch. All of them see only a segment's written bytes (the caller passes `seg.size` or
 * reads it) and run as registered readers of the segment (Segment.withReader).
 */
import type { FileHandle } from 'node:fs/promises';
import {
  ATTR_TIMESTAMP_TYPE,
  BATCH_HEADER_SIZE,
  CURRENT_MAGIC,
  OFFSET_ATTRIBUTES,
  OFFSET_MAGIC,
} from '../protocol/record-batch.ts';
import { decodeRecords, type DecodedRecord } from '../protocol/records.ts';
import { HEADER_PEEK, Segment, SegmentCorruptError, peekHeader } from './segment.ts';

export interface ReadResult {
  records: Buffer[];
  bytes: number;
}

export const EMPTY_READ: ReadResult = Object.freeze({ records: [], bytes: 0 }) as ReadResult;

/** Index of the segment holding `offset`: the last one with baseOffset <= offset (or 0). */
export function segmentIndexFor(segments: readonly Segment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * The batches of `seg` from the one holding `fetchOffset`: the sparse index gives a position,
 * a header scan finds the batch, then ONE read of up to `maxBytes` is cut back to whole
 * batches below `limit` (an exclusive offset). The first batch comes whole even past
 * `maxBytes` when `minOne`. Null when the segment has no batch reaching `fetchOffset` (the
 * caller moves on to the next segment).
 */
export async function readSegment(
  seg: Segment,
  handle: FileHandle,
  q: { fetchOffset: number; end: number; maxBytes: number; minOne: boolean; limit: number },
): Promise<ReadResult | null> {
  const from = seg.index.lookup(q.fetchOffset).position;
  const first = await seg.findBatch(handle, from, q.end, (h) => h.lastOffset >= q.fetchOffset);
  if (!first) return null;
  if (first.lastOffset >= q.limit) return EMPTY_READ;
  const want = Math.min(q.maxBytes, q.end - first.pos);
  if (first.size > want) {
    if (!q.minOne) return EMPTY_READ;
    const buf = await Segment.readAt(handle, first.pos, first.size);
    if (buf.length !== first.size) throw new SegmentCorruptError(seg.logPath, first.pos, 'short read');
    return { records: [buf], bytes: buf.length };
  }
  const buf = await Segment.readAt(handle, first.pos, want);
  let cut = 0;
  while (cut + HEADER_PEEK <= buf.length) {
    const h = peekHeader(buf, cut, first.pos + cut);
    if (h.size < BATCH_HEADER_SIZE || buf.readInt8(cut + OFFSET_MAGIC) !== CURRENT_MAGIC) {
      throw new SegmentCorruptError(seg.logPath, h.pos, 'invalid batch header');
    }
    if (cut + h.size > buf.length || h.lastOffset >= q.limit) break;
    cut += h.size;
  }
  return cut === 0 ? EMPTY_READ : { records: [buf.subarray(0, cut)], bytes: cut };
}

/**
 * Kafka's ListOffsets-by-timestamp answer inside one segment (whose max timestamp reaches the
 * target): the time index entry just below the target gives a position (every batch before it
 * is older than the target), a header scan finds the first batch whose max timestamp reaches
 * the target, and that one batch's records (decompressed by protocol/records; off the hot
 * path) give the first record with timestamp >= target. A LogAppendTime batch answers with
 * its base offset (every record has the batch timestamp); a batch that cannot be decoded
 * with its base offset and max timestamp — earlier than the exact answer, never later.
 */
export function timestampInSegment(seg: Segment, target: number): Promise<{ offset: number; timestamp: number } | null> {
  const size = seg.size;
  return seg.withReader(async (handle) => {
    const entry = seg.timeIndex.lookup(target - 1);
    const from = entry ? seg.index.lookup(entry.offset).position : 0;
    const h = await seg.findBatch(handle, from, size, (b) => b.maxTimestamp >= target);
    if (!h) return null;
    const batch = await Segment.readAt(handle, h.pos, h.size);
    const fallback = { offset: h.baseOffset, timestamp: h.maxTimestamp };
    if (isLogAppendTime(batch)) return fallback;
    const first = batchRecords(batch)?.find((r) => r.timestamp >= target);
    return first ? { offset: first.offset, timestamp: first.timestamp } : fallback;
  });
}

/**
 * ListOffsets MAX_TIMESTAMP inside the segment holding the log's largest timestamp: the first
 * record carrying it, as Kafka >= 3.8 answers, found by decoding the one batch that has it
 * (the segment remembers its last offset). LogAppendTime batches answer with their base
 * offset; a batch that cannot be decoded with its last offset (batch level).
 */
export function maxTimestampInSegment(seg: Segment): Promise<{ offset: number; timestamp: number }> {
  const target = seg.offsetOfMaxTimestamp;
  const timestamp = seg.maxTimestamp;
  const size = seg.size;
  const batchLevel = { offset: target, timestamp };
  return seg.withReader(async (handle) => {
    const from = seg.index.lookup(target).position;
    const h = await seg.findBatch(handle, from, size, (b) => b.lastOffset >= target);
    if (!h) return batchLevel;
    const batch = await Segment.readAt(handle, h.pos, h.size);
    if (isLogAppendTime(batch)) return { offset: h.baseOffset, timestamp };
    const first = batchRecords(batch)?.find((r) => r.timestamp === timestamp);
    return first ? { offset: first.offset, timestamp } : batchLevel;
  });
}

/** The records of one stored batch, or null when they cannot be decoded. */
function batchRecords(batch: Buffer): DecodedRecord[] | null {
  try {
    return decodeRecords(batch);
  } catch {
    return null;
  }
}

function isLogAppendTime(batch: Buffer): boolean {
  return (batch.readInt16BE(OFFSET_ATTRIBUTES) & ATTR_TIMESTAMP_TYPE) !== 0;
}
