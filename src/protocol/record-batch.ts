/**
 * The record batch (magic v2) header, read and patched in place. The broker never decodes
 * records on the produce or fetch path (DESIGN.md principle 3): it checks the 61-byte header
 * and the CRC, rewrites the base offset, and moves the batch as an opaque byte range.
 *
 * Layout (big-endian):
 *   0  baseOffset int64          27 baseTimestamp int64
 *   8  batchLength int32         35 maxTimestamp int64
 *   12 partitionLeaderEpoch int32 43 producerId int64
 *   16 magic int8                51 producerEpoch int16
 *   17 crc uint32 (CRC32C of 21..end) 53 baseSequence int32
 *   21 attributes int16          57 recordCount int32
 *   23 lastOffsetDelta int32     61 records...
 */
import { crc32c } from '@node-rs/crc32';
import { readVarint } from './varint.ts';

export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes before the length-counted part of a batch. */
export const LOG_OVERHEAD = 12;
export const CURRENT_MAGIC = 2;

export const OFFSET_BASE = 0;
export const OFFSET_LENGTH = 8;
export const OFFSET_LEADER_EPOCH = 12;
export const OFFSET_MAGIC = 16;
export const OFFSET_CRC = 17;
export const OFFSET_ATTRIBUTES = 21;
export const OFFSET_LAST_OFFSET_DELTA = 23;
export const OFFSET_BASE_TIMESTAMP = 27;
export const OFFSET_MAX_TIMESTAMP = 35;
export const OFFSET_PRODUCER_ID = 43;
export const OFFSET_PRODUCER_EPOCH = 51;
export const OFFSET_BASE_SEQUENCE = 53;
export const OFFSET_RECORD_COUNT = 57;

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08; // set = LogAppendTime
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

const TWO_32 = 0x1_0000_0000;

/** Reads an int64 that is known to fit in a double exactly (offsets, timestamps). */
export function readInt53(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

export function writeInt53(buf: Buffer, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * TWO_32, pos + 4);
}

export function batchBaseOffset(buf: Buffer, pos = 0): number {
  return readInt53(buf, pos + OFFSET_BASE);
}

/** Total size of the batch in bytes, including the 12-byte offset+length prefix. */
export function batchSize(buf: Buffer, pos = 0): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + OFFSET_LENGTH);
}

export function batchLastOffsetDelta(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + OFFSET_LAST_OFFSET_DELTA);
}

/** The last offset a batch covers (its header says; compaction may have removed that record). */
export function batchLastOffset(buf: Buffer, pos = 0): number {
  return batchBaseOffset(buf, pos) + batchLastOffsetDelta(buf, pos);
}

export function batchMaxTimestamp(buf: Buffer, pos = 0): number {
  return readInt53(buf, pos + OFFSET_MAX_TIMESTAMP);
}

export function batchLeaderEpoch(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + OFFSET_LEADER_EPOCH);
}

/** CRC32C over attributes..end, as stored in the header. */
export function computeBatchCrc(buf: Buffer, pos = 0, size = batchSize(buf, pos)): number {
  return crc32c(buf.subarray(pos + OFFSET_ATTRIBUTES, pos + size)) >>> 0;
}

/** Rewrites the base offset in place. The CRC does not cover it, so nothing else changes. */
export function setBatchBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt53(buf, pos + OFFSET_BASE, offset);
}

/** Rewrites the partition leader epoch in place (not covered by the CRC either). */
export function setBatchLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + OFFSET_LEADER_EPOCH);
}

/**
 * Stamps LogAppendTime: sets the timestamp-type bit and maxTimestamp, then recomputes the CRC
 * (both fields are inside the checksummed range). Kafka does the same for
 * `message.timestamp.type=LogAppendTime`; consumers then read every record's timestamp as
 * the batch's maxTimestamp.
 */
export function stampLogAppendTime(buf: Buffer, pos: number, timestampMs: number): void {
  const attrs = buf.readInt16BE(pos + OFFSET_ATTRIBUTES);
  buf.writeInt16BE(attrs | ATTR_TIMESTAMP_TYPE, pos + OFFSET_ATTRIBUTES);
  writeInt53(buf, pos + OFFSET_MAX_TIMESTAMP, timestampMs);
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + OFFSET_CRC);
}

/** Why a batch was refused; `code` is the Kafka error the producer gets. */
export interface BatchProblem {
  code: 'CORRUPT_MESSAGE' | 'INVALID_RECORD' | 'UNSUPPORTED_COMPRESSION_TYPE';
  message: string;
}

export interface BatchSummary {
  /** Byte position of the batch within the buffer. */
  pos: number;
  size: number;
  recordCount: number;
  lastOffsetDelta: number;
  maxTimestamp: number;
  compression: number;
  producerId: number;
  isTransactional: boolean;
}

export interface ValidatedBatches {
  batches: BatchSummary[];
  recordCount: number;
}

/**
 * Validates a produced record set: a sequence of complete v2 batches covering `buf` exactly.
 * Checks lengths, magic, CRC32C, compression codec, record count vs lastOffsetDelta, and, for
 * uncompressed batches, that the record length prefixes tile the records section exactly
 * (without materialising any record). Returns a problem instead of throwing.
 */
export function validateRecordSet(buf: Buffer): ValidatedBatches | BatchProblem {
  const batches: BatchSummary[] = [];
  let pos = 0;
  let total = 0;
  if (buf.length === 0) return { code: 'INVALID_RECORD', message: 'empty record set' };
  while (pos < buf.length) {
    const left = buf.length - pos;
    if (left < LOG_OVERHEAD + 5) {
      return { code: 'CORRUPT_MESSAGE', message: `truncated batch header at byte ${pos}` };
    }
    const magic = buf.readInt8(pos + OFFSET_MAGIC);
    if (magic !== CURRENT_MAGIC) {
      // Kafka 4 refuses the old message formats as invalid records, not as a format mismatch.
      return magic === 0 || magic === 1
        ? { code: 'INVALID_RECORD', message: `Produce requests are only allowed to contain record batches with magic version 2, not ${magic}` }
        : { code: 'CORRUPT_MESSAGE', message: `invalid record batch magic ${magic} at byte ${pos}` };
    }
    const length = buf.readInt32BE(pos + OFFSET_LENGTH);
    if (length < BATCH_HEADER_SIZE - LOG_OVERHEAD) {
      return { code: 'CORRUPT_MESSAGE', message: `record batch length ${length} is below the header size` };
    }
    const size = LOG_OVERHEAD + length;
    if (size > left) {
      return { code: 'CORRUPT_MESSAGE', message: `record batch of ${size} bytes exceeds the ${left} bytes sent` };
    }
    const stored = buf.readUInt32BE(pos + OFFSET_CRC);
    const actual = computeBatchCrc(buf, pos, size);
    if (stored !== actual) {
      return { code: 'CORRUPT_MESSAGE', message: `record batch CRC mismatch (stored ${stored}, computed ${actual})` };
    }
    const attrs = buf.readInt16BE(pos + OFFSET_ATTRIBUTES);
    const compression = attrs & ATTR_COMPRESSION_MASK;
    if (compression > Compression.ZSTD) {
      return { code: 'UNSUPPORTED_COMPRESSION_TYPE', message: `unknown compression codec ${compression}` };
    }
    if (attrs & ATTR_CONTROL) {
      return { code: 'INVALID_RECORD', message: 'producers may not write control batches' };
    }
    const recordCount = buf.readInt32BE(pos + OFFSET_RECORD_COUNT);
    const lastOffsetDelta = buf.readInt32BE(pos + OFFSET_LAST_OFFSET_DELTA);
    if (recordCount <= 0) {
      return { code: 'INVALID_RECORD', message: `record batch has ${recordCount} records` };
    }
    if (lastOffsetDelta !== recordCount - 1) {
      return {
        code: 'INVALID_RECORD',
        message: `lastOffsetDelta ${lastOffsetDelta} does not match ${recordCount} records`,
      };
    }
    if (compression === Compression.NONE) {
      const problem = checkRecordFraming(buf, pos + BATCH_HEADER_SIZE, pos + size, recordCount);
      if (problem) return problem;
    }
    batches.push({
      pos,
      size,
      recordCount,
      lastOffsetDelta,
      maxTimestamp: readInt53(buf, pos + OFFSET_MAX_TIMESTAMP),
      compression,
      producerId: readInt53(buf, pos + OFFSET_PRODUCER_ID),
      isTransactional: (attrs & ATTR_TRANSACTIONAL) !== 0,
    });
    total += recordCount;
    pos += size;
  }
  return { batches, recordCount: total };
}

/** Walks the varint length prefixes of uncompressed records; they must tile [start, end). */
function checkRecordFraming(buf: Buffer, start: number, end: number, expected: number): BatchProblem | null {
  const state = { pos: start };
  let count = 0;
  while (state.pos < end) {
    let len: number;
    try {
      len = readVarint(buf, state, end);
    } catch {
      return { code: 'CORRUPT_MESSAGE', message: 'malformed record length varint' };
    }
    if (len <= 0 || len > end - state.pos) {
      return { code: 'CORRUPT_MESSAGE', message: `record length ${len} does not fit the batch` };
    }
    state.pos += len;
    count++;
  }
  if (count !== expected) {
    return { code: 'INVALID_RECORD', message: `batch declares ${expected} records but holds ${count}` };
  }
  return null;
}
