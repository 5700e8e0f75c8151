/**
 * The pure steps of `PartitionLog.append`: checking a record set's batches (and finding the
 * one with a producer id), the roll decision before an append (Kafka's shouldRoll), and
 * assigning offsets in the caller's buffer; and what an append resolves with. The log's state
 * stays in partition-log.ts.
 */
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { setBatchBaseOffset, setBatchLeaderEpoch, stampLogAppendTime } from '../protocol/record-batch.ts';
import type { LogConfig } from './log-config.ts';
import { OffsetIndex } from './offset-index.ts';
import { producerBatchAt } from './producer-batches.ts';
import type { ProducerBatch } from './producer-state.ts';
import { coversExactly, walkBatches, type AppendBatchInfo, type Segment } from './segment.ts';
import { TimeIndex } from './time-index.ts';

const INT32_MAX = 0x7fff_ffff;

/** What `PartitionLog.append` resolves with. */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** The stamped LogAppendTime, or -1. */
  logAppendTime: number;
  logStartOffset: number;
  /** The batch repeated one of its producer's last five: these are the original's offsets, nothing was appended. */
  duplicate?: boolean;
}

/** A batch of an append with its offsets assigned, as the write queue takes it. */
export interface PlannedBatch {
  pos: number;
  size: number;
  lastOffset: number;
  maxTimestamp: number;
}

/**
 * The batches of `records` (`given`, or found by walking the headers) and the one batch with a
 * producer id, or the error the append fails with: CORRUPT_MESSAGE when the batches do not
 * cover the record set exactly, INVALID_RECORD when a set with a producer id has more than
 * one batch.
 */
export function appendBatches(
  records: Buffer,
  given: AppendBatchInfo[] | undefined,
): { batches: AppendBatchInfo[]; producerBatch: ProducerBatch | null } | KafkaError {
  const batches = given ?? walkBatches(records);
  if (typeof batches === 'string' || !coversExactly(batches, records.length)) {
    const why = typeof batches === 'string' ? batches : 'batches do not cover the record set';
    return new KafkaError(ErrorCode.CORRUPT_MESSAGE, why);
  }
  let producerBatch: ProducerBatch | null = null;
  for (const b of batches) {
    const pb = producerBatchAt(records, b.pos, b.size);
    if (!pb) continue;
    if (batches.length !== 1) return new KafkaError(ErrorCode.INVALID_RECORD, 'a record set with a producer id must be a single batch');
    producerBatch = pb;
  }
  return { batches, producerBatch };
}

export type RollReason = 'segment.bytes' | 'segment.ms' | 'index full' | 'relative offset overflow';

/** An append about to be assigned offsets from `nextOffset` on. */
export interface PendingAppend {
  bytes: number;
  batches: number;
  offsets: number;
  nextOffset: number;
}

/**
 * Why `seg` (the active segment, with assigned bytes) must roll before `append`, or null when
 * the append fits. For compacted logs segment.ms is capped by max.compaction.lag.ms, so the
 * active segment's records become cleanable in time.
 */
export function rollReason(seg: Segment, c: LogConfig, append: PendingAppend, now: number): RollReason | null {
  const { bytes, batches, offsets, nextOffset } = append;
  return seg.assignedSize + bytes > Math.min(c.segmentBytes, INT32_MAX) // index positions are int32
    ? 'segment.bytes'
    : seg.rollBaseMs !== null && now - seg.rollBaseMs > (c.compact ? Math.min(c.segmentMs, c.maxCompactionLagMs) : c.segmentMs)
      ? 'segment.ms'
      : seg.index.entries + seg.pendingBatches + batches > OffsetIndex.maxEntriesFor(c.segmentIndexBytes) ||
          seg.timeIndex.entries + seg.pendingBatches + batches + 1 > TimeIndex.maxEntriesFor(c.segmentIndexBytes)
        ? 'index full'
        : nextOffset + offsets - 1 - seg.baseOffset > INT32_MAX
          ? 'relative offset overflow'
          : null;
}

/**
 * Rewrites each batch's base offset (from `baseOffset` on), partition leader epoch and, when
 * `stamp` is given, LogAppendTime in `records` itself; returns the planned batches.
 */
export function assignOffsets(
  records: Buffer,
  batches: readonly AppendBatchInfo[],
  baseOffset: number,
  leaderEpoch: number,
  stamp: number | undefined,
): PlannedBatch[] {
  let offset = baseOffset;
  const planned: PlannedBatch[] = [];
  for (const b of batches) {
    setBatchBaseOffset(records, b.pos, offset);
    setBatchLeaderEpoch(records, b.pos, leaderEpoch);
    let maxTimestamp = b.maxTimestamp;
    if (stamp !== undefined) {
      stampLogAppendTime(records, b.pos, stamp);
      maxTimestamp = stamp;
    }
    offset += b.lastOffsetDelta + 1;
    planned.push({ pos: b.pos, size: b.size, lastOffset: offset - 1, maxTimestamp });
  }
  return planned;
}
