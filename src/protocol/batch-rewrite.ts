/**
 * Looking inside one v2 batch, off the hot path: the produce path calls these only for topics
 * whose configs require it — `recompressBatch` when a topic's compression.type differs from
 * the producer's codec, `recordsWithoutKey` for compacted topics — and the log cleaner
 * (storage/compaction.ts) locates records with `batchRecords`.
 *
 * Records are kept byte for byte (offset deltas, timestamp deltas, keys, values, headers,
 * record attributes): recompression decompresses the records section, checks that its records
 * tile it exactly, and compresses the same bytes with the new codec. The header keeps every
 * field (producer id/epoch/sequence, timestamps, transactional flag, ...) except the codec
 * bits, the length and the CRC.
 */
import {
  ATTR_COMPRESSION_MASK,
  BATCH_HEADER_SIZE,
  computeBatchCrc,
  LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
  OFFSET_CRC,
  OFFSET_LENGTH,
  OFFSET_RECORD_COUNT,
} from './record-batch.ts';
import { compress, decompress } from './compression.ts';
import { MAX_DECOMPRESSED_BATCH_BYTES, readBytes } from './records.ts';
import { readVarint, readVarlong } from './varint.ts';

/** A batch whose records cannot be read (bad framing, undecompressable data). */
export class BatchRecordsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BatchRecordsError';
  }
}

/** The uncompressed records section of one whole batch (a view when it is uncompressed). */
function recordsSection(batch: Buffer): Buffer {
  const codec = batch.readInt16BE(OFFSET_ATTRIBUTES) & ATTR_COMPRESSION_MASK;
  const section = batch.subarray(BATCH_HEADER_SIZE, LOG_OVERHEAD + batch.readInt32BE(OFFSET_LENGTH));
  try {
    return decompress(codec, section, MAX_DECOMPRESSED_BATCH_BYTES);
  } catch (err) {
    throw new BatchRecordsError((err as Error).message);
  }
}

/** One record inside a (decompressed) records section, located, not copied. */
export interface RawRecord {
  /** The record's bytes, length prefix included: [start, end). */
  start: number;
  end: number;
  /** The record attributes byte. */
  attrPos: number;
  /** Where the bytes after the timestamp delta start (offset delta, key, value, headers). */
  afterTimestamp: number;
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  tombstone: boolean;
}

/**
 * The decompressed records section of one whole batch and where each record lies in it. The
 * records must be exactly the batch's record count and tile the section; otherwise (or for
 * undecompressable data) BatchRecordsError.
 */
export function batchRecords(batch: Buffer): { body: Buffer; records: RawRecord[] } {
  const body = recordsSection(batch);
  const count = batch.readInt32BE(OFFSET_RECORD_COUNT);
  const records: RawRecord[] = [];
  const state = { pos: 0 };
  try {
    while (state.pos < body.length) {
      const start = state.pos;
      const len = readVarint(body, state, body.length);
      const end = state.pos + len;
      if (len <= 0 || end > body.length) throw new BatchRecordsError(`record ${records.length} length ${len} does not fit the batch`);
      const attrPos = state.pos++;
      const timestampDelta = readVarlong(body, state, end);
      const afterTimestamp = state.pos;
      const offsetDelta = readVarint(body, state, end);
      const key = readBytes(body, state, end);
      const tombstone = readVarint(body, state, end) < 0;
      records.push({ start, end, attrPos, afterTimestamp, timestampDelta, offsetDelta, key, tombstone });
      state.pos = end;
    }
  } catch (err) {
    if (err instanceof BatchRecordsError) throw err;
    throw new BatchRecordsError(`malformed record ${records.length}: ${(err as Error).message}`);
  }
  if (records.length !== count) throw new BatchRecordsError(`batch declares ${count} records but holds ${records.length}`);
  return { body, records };
}

/** Indexes of the records of `batch` whose key is null (an empty key is a key). */
export function recordsWithoutKey(batch: Buffer): number[] {
  const found: number[] = [];
  batchRecords(batch).records.forEach((r, index) => {
    if (r.key === null) found.push(index);
  });
  return found;
}

/**
 * `batch` (one whole v2 batch) with its records compressed by `codec` (Compression.*), or
 * the same buffer if it already uses that codec. Throws BatchRecordsError for unreadable
 * records.
 */
export function recompressBatch(batch: Buffer, codec: number): Buffer {
  const attrs = batch.readInt16BE(OFFSET_ATTRIBUTES);
  if ((attrs & ATTR_COMPRESSION_MASK) === codec) return batch;
  const { body } = batchRecords(batch); // the records must be readable before they are kept
  const records = compress(codec, body);
  const out = Buffer.allocUnsafe(BATCH_HEADER_SIZE + records.length);
  batch.copy(out, 0, 0, BATCH_HEADER_SIZE);
  records.copy(out, BATCH_HEADER_SIZE);
  out.writeInt32BE(out.length - LOG_OVERHEAD, OFFSET_LENGTH);
  out.writeInt16BE((attrs & ~ATTR_COMPRESSION_MASK) | codec, OFFSET_ATTRIBUTES);
  out.writeUInt32BE(computeBatchCrc(out, 0, out.length), OFFSET_CRC);
  return out;
}
