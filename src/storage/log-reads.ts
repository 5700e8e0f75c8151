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
import { largeBuffers } from '../common/buffer-pool.ts';
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
 * The batches of `seg` from the one holding `fetchOffset`: ONE read of up to `maxBytes`, cut
 * back to whole batches below `limit` (an exclusive offset). The first batch comes whole even
 * past `maxBytes` when `minOne`. Null when the segment has no batch reaching `fetchOffset` (the
 * caller moves on to the next segment).
 *
 * Where the read starts: a consumer usually asks for the offset right after the last batch it
 * was given, so the segment remembers where that next batch starts (`readHint`) and the read
 * goes straight there; the batch found there must start at `fetchOffset`, or the hint is
 * ignored. Otherwise the sparse index gives a position and a header scan finds the batch.
 * Data buffers come from the Fetch read pool (`largeBuffers`); the caller gives them back.
 */
export async function readSegment(
  seg: Segment,
  handle: FileHandle,
  q: { fetchOffset: number; end: number; maxBytes: number; minOne: boolean; limit: number },
): Promise<ReadResult | null> {
  const hint = seg.readHint;
  if (hint !== null && hint.offset === q.fetchOffset && q.end - hint.pos >= HEADER_PEEK) {
    const got = await readFrom(seg, handle, hint.pos, q, true);
    if (got) return got;
  }
  const from = seg.index.lookup(q.fetchOffset).position;
  const first = await seg.findBatch(handle, from, q.end, (h) => h.lastOffset >= q.fetchOffset);
  if (!first) return null;
  if (first.lastOffset >= q.limit) return EMPTY_READ;
  return readFrom(seg, handle, first.pos, q, false);
}

/**
 * Reads whole batches starting at byte `pos`, which holds the batch with `q.fetchOffset`.
 * With `fromHint`, that is only a guess: null when the batch there does not start at
 * `q.fetchOffset`.
 */
async function readFrom(
  seg: Segment,
  handle: FileHandle,
  pos: number,
  q: { fetchOffset: number; end: number; maxBytes: number; minOne: boolean; limit: number },
  fromHint: boolean,
): Promise<ReadResult | null> {
  const want = Math.min(Math.max(q.maxBytes, HEADER_PEEK), q.end - pos);
  let buf = await Segment.readAt(handle, pos, want, acquire);
  if (buf.length < HEADER_PEEK) throw new SegmentCorruptError(seg.logPath, pos, 'short read of a batch header');
  const first = peekHeader(buf, 0, pos);
  if (first.size < BATCH_HEADER_SIZE || buf.readInt8(OFFSET_MAGIC) !== CURRENT_MAGIC || pos + first.size > q.end) {
    largeBuffers.release(buf);
    if (fromHint) return null;
    throw new SegmentCorruptError(seg.logPath, pos, 'invalid batch header');
  }
  if (fromHint && first.baseOffset !== q.fetchOffset) {
    largeBuffers.release(buf);
    return null;
  }
  if (first.lastOffset >= q.limit) {
    largeBuffers.release(buf);
    return EMPTY_READ;
  }
  if (first.size > q.maxBytes || first.size > buf.length) {
    // The first batch alone is larger than the limit: all of it or nothing.
    largeBuffers.release(buf);
    if (!q.minOne) return EMPTY_READ;
    buf = await Segment.readAt(handle, pos, first.size, acquire);
    if (buf.length !== first.size) throw new SegmentCorruptError(seg.logPath, pos, 'short read');
    seg.readHint = { offset: first.lastOffset + 1, pos: pos + first.size };
    return { records: [buf], bytes: buf.length };
  }
  let cut = 0;
  let next = q.fetchOffset;
  while (cut + HEADER_PEEK <= buf.length) {
    const h = peekHeader(buf, cut, pos + cut);
    if (h.size < BATCH_HEADER_SIZE || buf.readInt8(cut + OFFSET_MAGIC) !== CURRENT_MAGIC) {
      largeBuffers.release(buf);
      throw new SegmentCorruptError(seg.logPath, h.pos, 'invalid batch header');
    }
    if (cut + h.size > buf.length || h.lastOffset >= q.limit) break;
    cut += h.size;
    next = h.lastOffset + 1;
  }
  seg.readHint = { offset: next, pos: pos + cut };
  return { records: [buf.subarray(0, cut)], bytes: cut };
}

const acquire = (size: number) => largeBuffers.acquire(size);

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
