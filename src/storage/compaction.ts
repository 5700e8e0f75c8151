/**
 * Compaction of one record batch (Kafka's LogCleaner record rules, magic v2 only): which
 * records of a batch survive, given the latest offset of every key in the dirty part of the
 * log, and the bytes of the batch that holds them. Pure and synchronous; cleaner.ts drives it.
 *
 * Rules (as Kafka 3.1+ with KIP-534 delete horizons):
 * - a record is kept unless a later record has the same key (the offset map says so);
 * - a record without a key is removed (Kafka's cleaner counts it as invalid and drops it);
 * - a tombstone (null value) that is the latest for its key is kept, and its batch gets a
 *   delete horizon (now + delete.retention.ms, stored in the base-timestamp field with the
 *   0x40 attribute, record timestamp deltas re-based so record timestamps do not change);
 *   once a later pass runs past that horizon the tombstone is removed;
 * - records of aborted transactions are removed and never enter the offset map; committed
 *   transactional records are compacted like any others; markers are removed once their
 *   transaction has nothing left, after a delete horizon (cleaner-txns.ts);
 * - a batch keeps its base offset and its last offset delta even when records are removed
 *   (the producer's last sequence is derived from them); a batch that loses every record is
 *   dropped, unless it is the last batch of its producer, then an empty batch (header only) is
 *   kept so the producer's sequence state survives compaction.
 * A rewritten batch is compressed again with its own codec.
 */
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_DELETE_HORIZON,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
  OFFSET_BASE_TIMESTAMP,
  OFFSET_CRC,
  OFFSET_LAST_OFFSET_DELTA,
  OFFSET_MAX_TIMESTAMP,
  OFFSET_PRODUCER_ID,
  OFFSET_RECORD_COUNT,
  computeBatchCrc,
  readInt53,
  writeInt53,
} from '../protocol/record-batch.ts';
import { compress } from '../protocol/compression.ts';
import { batchRecords, type RawRecord } from '../protocol/batch-rewrite.ts';
import { varintSize, varlongSize, writeVarint, writeVarlong } from '../protocol/varint.ts';
import { readTxnMarker } from '../protocol/control-batch.ts';
import { NO_TXNS, TxnTracker, type TxnView } from './cleaner-txns.ts';

/** The offset map's key for a record key (latin1 keeps every byte as one char). */
export function mapKey(key: Buffer): string {
  return key.toString('latin1');
}

function attributes(batch: Buffer): number {
  return batch.readInt16BE(OFFSET_ATTRIBUTES);
}

/** True for a batch of an aborted transaction. */
function isAborted(batch: Buffer, txns: TxnView): boolean {
  return (attributes(batch) & ATTR_TRANSACTIONAL) !== 0 && txns.isAborted(readInt53(batch, OFFSET_PRODUCER_ID), readInt53(batch, 0));
}

/** Adds a batch's keys to the offset map (key → its latest offset); markers and aborted data do not count. */
export function mapBatch(batch: Buffer, map: Map<string, number>, txns: TxnView = NO_TXNS): void {
  if ((attributes(batch) & ATTR_CONTROL) !== 0 || isAborted(batch, txns)) return;
  const base = readInt53(batch, 0);
  for (const r of batchRecords(batch).records) {
    if (r.key !== null) map.set(mapKey(r.key), base + r.offsetDelta);
  }
}

export interface CleanContext {
  /** Latest offset of each key in the section being deduplicated. */
  map: ReadonlyMap<string, number>;
  now: number;
  deleteRetentionMs: number;
  /** Transactions of this pass (default: none, every emptied producer batch kept). */
  txns?: TxnTracker;
}

export interface CleanedBatch {
  /** The batch to keep (the original bytes when nothing changed), or null to drop it. */
  batch: Buffer | null;
  removed: number;
  /** The delete horizon of a kept batch that still holds tombstones, or -1. */
  horizon: number;
}

export function cleanBatch(batch: Buffer, ctx: CleanContext): CleanedBatch {
  const txns = ctx.txns ?? new TxnTracker(NO_TXNS);
  const attrs = attributes(batch);
  const base = readInt53(batch, 0);
  const baseTimestamp = readInt53(batch, OFFSET_BASE_TIMESTAMP);
  const oldHorizon = (attrs & ATTR_DELETE_HORIZON) !== 0 ? baseTimestamp : -1;
  const producerId = readInt53(batch, OFFSET_PRODUCER_ID);
  if ((attrs & ATTR_CONTROL) !== 0) return cleanMarker(batch, producerId, oldHorizon, txns, ctx);
  const { body, records } = batchRecords(batch);
  const lastOfProducer = producerId >= 0 && txns.view.isLastOfProducer(producerId, base + batch.readInt32BE(OFFSET_LAST_OFFSET_DELTA));
  if ((attrs & ATTR_TRANSACTIONAL) !== 0) {
    const aborted = txns.view.isAborted(producerId, base);
    txns.onTransactionalBatch(producerId, aborted, !aborted || lastOfProducer);
    if (aborted) {
      if (records.length === 0 && lastOfProducer) return { batch, removed: 0, horizon: -1 };
      return { batch: lastOfProducer ? emptyBatch(batch) : null, removed: records.length, horizon: -1 };
    }
  }
  // An empty batch from an earlier pass stays only while it is its producer's last one.
  if (records.length === 0) return { batch: lastOfProducer ? batch : null, removed: 0, horizon: -1 };
  const kept: RawRecord[] = [];
  let tombstones = 0;
  for (const r of records) {
    if (r.key === null) continue;
    const latest = ctx.map.get(mapKey(r.key));
    if (latest !== undefined && base + r.offsetDelta < latest) continue;
    if (r.tombstone) {
      if (oldHorizon >= 0 && ctx.now >= oldHorizon) continue;
      tombstones++;
    }
    kept.push(r);
  }
  const removed = records.length - kept.length;
  const newHorizon = tombstones > 0 && oldHorizon < 0 ? Math.min(ctx.now + ctx.deleteRetentionMs, Number.MAX_SAFE_INTEGER) : -1;
  const horizon = tombstones === 0 ? -1 : newHorizon >= 0 ? newHorizon : oldHorizon;
  if (removed === 0 && newHorizon < 0) return { batch, removed, horizon };
  if (kept.length === 0) return { batch: lastOfProducer ? emptyBatch(batch) : null, removed, horizon: -1 };
  return { batch: rebuild(batch, body, kept, newHorizon), removed, horizon };
}

/**
 * A transaction marker: kept while its transaction has batches left; once it has none, it
 * gets a delete horizon, and a pass after the horizon removes it (Kafka's rules, KIP-534).
 */
function cleanMarker(batch: Buffer, producerId: number, oldHorizon: number, txns: TxnTracker, ctx: CleanContext): CleanedBatch {
  const marker = batch.length > BATCH_HEADER_SIZE ? readTxnMarker(batch) : null;
  if (!txns.markerDiscardable(producerId, marker)) return { batch, removed: 0, horizon: -1 };
  if (oldHorizon >= 0) {
    if (ctx.now < oldHorizon) return { batch, removed: 0, horizon: oldHorizon };
    if (marker && !marker.committed) txns.removedAborts.push({ producerId, markerOffset: readInt53(batch, 0) });
    return { batch: null, removed: 1, horizon: -1 };
  }
  if (!marker) return { batch: null, removed: 0, horizon: -1 }; // an empty control batch: nothing to keep
  const horizon = Math.min(ctx.now + ctx.deleteRetentionMs, Number.MAX_SAFE_INTEGER);
  const { body, records } = batchRecords(batch);
  return { batch: rebuild(batch, body, records, horizon), removed: 0, horizon };
}

/** The batch with `kept` as its records, re-based on `newHorizon` when that is set. */
function rebuild(batch: Buffer, body: Buffer, kept: RawRecord[], newHorizon: number): Buffer {
  const attrs = attributes(batch);
  const oldBase = readInt53(batch, OFFSET_BASE_TIMESTAMP);
  const newBase = newHorizon >= 0 ? newHorizon : oldBase;
  let size = 0;
  for (const r of kept) {
    size += newBase === oldBase ? r.end - r.start : rebasedSize(r, oldBase - newBase);
  }
  const section = Buffer.allocUnsafe(size);
  let pos = 0;
  let maxTimestamp = -1;
  for (const r of kept) {
    maxTimestamp = Math.max(maxTimestamp, oldBase + r.timestampDelta);
    if (newBase === oldBase) {
      pos += body.copy(section, pos, r.start, r.end);
      continue;
    }
    const delta = r.timestampDelta + oldBase - newBase;
    const inner = 1 + varlongSize(delta) + (r.end - r.afterTimestamp);
    pos = writeVarint(section, pos, inner);
    section[pos++] = body[r.attrPos]!;
    pos = writeVarlong(section, pos, delta);
    pos += body.copy(section, pos, r.afterTimestamp, r.end);
  }
  const codec = attrs & ATTR_COMPRESSION_MASK;
  const records = codec === 0 ? section : compress(codec, section);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + records.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  records.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, 8);
  if (newHorizon >= 0) {
    out.writeInt16BE(attrs | ATTR_DELETE_HORIZON, OFFSET_ATTRIBUTES);
    writeInt53(out, OFFSET_BASE_TIMESTAMP, newHorizon);
  }
  // LogAppendTime batches keep their stamped time; CreateTime ones take their records' max.
  if ((attrs & ATTR_TIMESTAMP_TYPE) === 0) writeInt53(out, OFFSET_MAX_TIMESTAMP, maxTimestamp);
  out.writeInt32BE(kept.length, OFFSET_RECORD_COUNT);
  out.writeUInt32BE(computeBatchCrc(out), OFFSET_CRC);
  return out;
}

function rebasedSize(r: RawRecord, shift: number): number {
  const inner = 1 + varlongSize(r.timestampDelta + shift) + (r.end - r.afterTimestamp);
  return varintSize(inner) + inner;
}

/** A header-only batch with the original offsets and producer fields (Kafka's writeEmptyHeader). */
function emptyBatch(batch: Buffer): Buffer {
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  out.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD, 8);
  out.writeInt16BE(attributes(batch) & ~ATTR_COMPRESSION_MASK, OFFSET_ATTRIBUTES);
  out.writeInt32BE(0, OFFSET_RECORD_COUNT);
  out.writeUInt32BE(computeBatchCrc(out), OFFSET_CRC);
  return out;
}
