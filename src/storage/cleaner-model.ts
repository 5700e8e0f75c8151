/**
 * Test support for the log cleaner (not used by production code): a model of what a compacted
 * log must hold, and helpers to append keyed batches and read a log back record by record.
 *
 * The model applies Kafka's rules to a plain list of records: a pass with end offset E keeps
 * every record at or after E, and of the records before E only the latest of each key, minus
 * keyless records and minus tombstones whose delete horizon (set by the first pass that kept
 * them, to now + delete.retention.ms) has passed.
 */
import { ATTR_COMPRESSION_MASK, OFFSET_ATTRIBUTES, batchLastOffset, batchSize } from '../protocol/record-batch.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import type { PartitionLog } from './partition-log.ts';

export interface ModelRecord {
  offset: number;
  key: string | null;
  value: string | null;
  /** Codec of the batch the record was appended in. */
  codec: number;
  timestamp: number;
  /** Set when a pass first keeps this tombstone. */
  horizon?: number;
}

export class CleanerModel {
  records: ModelRecord[] = [];

  /** Records as appendKeyed writes them: record i has timestamp `timestamp + i`. */
  append(baseOffset: number, rows: { key: string | null; value: string | null }[], codec: number, timestamp: number): void {
    rows.forEach((r, i) =>
      this.records.push({ offset: baseOffset + i, key: r.key, value: r.value, codec, timestamp: timestamp + i }),
    );
  }

  /** One cleaner pass over the records before `end`, at time `now`. */
  clean(end: number, now: number, deleteRetentionMs: number): void {
    const latest = new Map<string, number>();
    for (const r of this.records) if (r.offset < end && r.key !== null) latest.set(r.key, r.offset);
    this.records = this.records.filter((r) => {
      if (r.offset >= end) return true;
      if (r.key === null || latest.get(r.key) !== r.offset) return false;
      if (r.value !== null) return true;
      if (r.horizon !== undefined && now >= r.horizon) return false;
      r.horizon ??= Math.min(now + deleteRetentionMs, Number.MAX_SAFE_INTEGER);
      return true;
    });
  }

  /** The latest value of each key (tombstoned keys absent): what a changelog reader rebuilds. */
  state(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.records) {
      if (r.key === null) continue;
      if (r.value === null) out.delete(r.key);
      else out.set(r.key, r.value);
    }
    return out;
  }
}

/** Appends one batch of keyed records (null key / null value allowed) with a codec; returns its base offset. */
export async function appendKeyed(
  log: PartitionLog,
  rows: { key: string | null; value: string | null }[],
  opts: { codec?: number; timestamp: number; producerId?: number },
): Promise<number> {
  const batch = buildRecordBatch({
    compression: opts.codec ?? 0,
    baseTimestamp: opts.timestamp,
    producerId: opts.producerId,
    producerEpoch: opts.producerId === undefined ? undefined : 0,
    baseSequence: opts.producerId === undefined ? undefined : 0,
    records: rows.map((r, i) => ({
      key: r.key === null ? null : Buffer.from(r.key),
      value: r.value === null ? null : Buffer.from(r.value),
      timestamp: opts.timestamp + i,
    })),
  });
  return (await log.append(batch, { leaderEpoch: 0 })).baseOffset;
}

export interface ReadBack {
  records: { offset: number; key: string | null; value: string | null; timestamp: number; codec: number }[];
  batches: Buffer[];
}

/** Every record of the log from its start, through PartitionLog.read as a consumer would. */
export async function readAll(log: PartitionLog): Promise<ReadBack> {
  const out: ReadBack = { records: [], batches: [] };
  let offset = log.logStartOffset;
  while (offset < log.highWatermark) {
    const got = await log.read(offset, 1 << 20);
    if (got.records.length === 0) break;
    let next = offset;
    for (const buf of got.records) {
      for (let pos = 0; pos < buf.length; pos += batchSize(buf, pos)) {
        const b = buf.subarray(pos, pos + batchSize(buf, pos));
        out.batches.push(b);
        const codec = b.readInt16BE(OFFSET_ATTRIBUTES) & ATTR_COMPRESSION_MASK;
        for (const r of decodeRecords(b)) {
          if (r.offset < offset) continue;
          out.records.push({
            offset: r.offset,
            key: r.key === null ? null : r.key.toString(),
            value: r.value === null ? null : r.value.toString(),
            timestamp: r.timestamp,
            codec,
          });
        }
        next = Math.max(next, batchLastOffset(b) + 1);
      }
    }
    offset = next;
  }
  return out;
}
