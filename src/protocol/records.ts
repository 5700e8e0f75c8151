/**
 * Building and reading whole v2 record batches. Not used on the produce/fetch hot path (which
 * treats batches as opaque bytes); used by tests, tools, control batches and compaction.
 * Compressed batches are built and decoded through ./compression.ts.
 */
import { crc32c } from '@node-rs/crc32';
import {
  BATCH_HEADER_SIZE,
  LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
  OFFSET_CRC,
  readInt53,
  writeInt53,
  ATTR_COMPRESSION_MASK,
} from './record-batch.ts';
import { compress, decompress } from './compression.ts';
import { readVarint, readVarlong, varintSize, varlongSize, writeVarint, writeVarlong } from './varint.ts';

/** Bound on the records of one decompressed batch (a hostile batch cannot expand further). */
export const MAX_DECOMPRESSED_BATCH_BYTES = 256 * 1024 * 1024;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface RecordInput {
  key?: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Absolute timestamp in ms; defaults to the batch's base timestamp. */
  timestamp?: number;
}

export interface BatchInput {
  baseOffset?: number;
  /** Compression codec (Compression.*); the records section is compressed with it. */
  compression?: number;
  partitionLeaderEpoch?: number;
  attributes?: number;
  baseTimestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  records: RecordInput[];
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

function bytesField(b: Buffer | null | undefined): number {
  return b == null ? varintSize(-1) : varintSize(b.length) + b.length;
}

/** Encodes an uncompressed v2 batch with a correct CRC. */
export function buildRecordBatch(input: BatchInput): Buffer {
  const baseTimestamp = input.baseTimestamp ?? input.records[0]?.timestamp ?? 0;
  let maxTimestamp = baseTimestamp;
  const bodies: { size: number; rec: RecordInput; tsDelta: number; headerKeys: Buffer[] }[] = [];
  let recordsBytes = 0;
  input.records.forEach((rec, i) => {
    const ts = rec.timestamp ?? baseTimestamp;
    maxTimestamp = Math.max(maxTimestamp, ts);
    const tsDelta = ts - baseTimestamp;
    const headers = rec.headers ?? [];
    const headerKeys = headers.map((h) => Buffer.from(h.key, 'utf8'));
    let size = 1 + varlongSize(tsDelta) + varintSize(i) + bytesField(rec.key) + bytesField(rec.value);
    size += varintSize(headers.length);
    headers.forEach((h, j) => {
      size += varintSize(headerKeys[j]!.length) + headerKeys[j]!.length + bytesField(h.value);
    });
    bodies.push({ size, rec, tsDelta, headerKeys });
    recordsBytes += varintSize(size) + size;
  });
  const body = Buffer.alloc(recordsBytes);
  let pos = 0;
  bodies.forEach(({ size, rec, tsDelta, headerKeys }, i) => {
    pos = writeVarint(body, pos, size);
    body[pos++] = 0; // record attributes
    pos = writeVarlong(body, pos, tsDelta);
    pos = writeVarint(body, pos, i);
    pos = writeBytes(body, pos, rec.key ?? null);
    pos = writeBytes(body, pos, rec.value);
    const headers = rec.headers ?? [];
    pos = writeVarint(body, pos, headers.length);
    headers.forEach((h, j) => {
      pos = writeBytes(body, pos, headerKeys[j]!);
      pos = writeBytes(body, pos, h.value);
    });
  });
  const codec = input.compression ?? 0;
  const records = codec ? compress(codec, body) : body;
  const buf = Buffer.alloc(BATCH_HEADER_SIZE + records.length);
  writeInt53(buf, 0, input.baseOffset ?? 0);
  buf.writeInt32BE(buf.length - LOG_OVERHEAD, 8);
  buf.writeInt32BE(input.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(((input.attributes ?? 0) & ~ATTR_COMPRESSION_MASK) | codec, 21);
  buf.writeInt32BE(input.records.length - 1, 23);
  writeInt53(buf, 27, baseTimestamp);
  writeInt53(buf, 35, maxTimestamp);
  writeInt53(buf, 43, input.producerId ?? -1);
  buf.writeInt16BE(input.producerEpoch ?? -1, 51);
  buf.writeInt32BE(input.baseSequence ?? -1, 53);
  buf.writeInt32BE(input.records.length, 57);
  records.copy(buf, BATCH_HEADER_SIZE);
  buf.writeUInt32BE(crc32c(buf.subarray(OFFSET_ATTRIBUTES)) >>> 0, OFFSET_CRC);
  return buf;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b == null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  b.copy(buf, pos);
  return pos + b.length;
}

/** A varint-length-prefixed bytes field (-1 = null) inside a record ending at `end`. */
export function readBytes(buf: Buffer, state: { pos: number }, end: number): Buffer | null {
  const len = readVarint(buf, state, end);
  if (len < 0) return null;
  if (len > end - state.pos) throw new RangeError('record field exceeds its record');
  const out = buf.subarray(state.pos, state.pos + len);
  state.pos += len;
  return out;
}

/**
 * Decodes the records of every batch in `buf` (a fetch response's record set or a segment's
 * bytes), decompressing compressed ones. A trailing partial batch is ignored, as clients do.
 * Throws on malformed records (RangeError) or undecompressable data (CompressionError).
 */
export function decodeRecords(buf: Buffer): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let pos = 0;
  while (pos + LOG_OVERHEAD <= buf.length) {
    const size = LOG_OVERHEAD + buf.readInt32BE(pos + 8);
    if (pos + size > buf.length) break;
    const attrs = buf.readInt16BE(pos + OFFSET_ATTRIBUTES);
    const baseOffset = readInt53(buf, pos);
    const baseTimestamp = readInt53(buf, pos + 27);
    const logAppend = (attrs & 0x08) !== 0;
    const maxTimestamp = readInt53(buf, pos + 35);
    const count = buf.readInt32BE(pos + 57);
    const end = pos + size;
    const codec = attrs & ATTR_COMPRESSION_MASK;
    const section = buf.subarray(pos + BATCH_HEADER_SIZE, end);
    const body = codec ? decompress(codec, section, MAX_DECOMPRESSED_BATCH_BYTES) : section;
    const state = { pos: 0 };
    for (let i = 0; i < count; i++) {
      const len = readVarint(body, state, body.length);
      const recEnd = state.pos + len;
      if (len <= 0 || recEnd > body.length) throw new RangeError('record length exceeds its batch');
      state.pos++; // attributes
      const tsDelta = readVarlong(body, state, recEnd);
      const offsetDelta = readVarint(body, state, recEnd);
      const key = readBytes(body, state, recEnd);
      const value = readBytes(body, state, recEnd);
      const nHeaders = readVarint(body, state, recEnd);
      const headers: RecordHeader[] = [];
      for (let h = 0; h < nHeaders; h++) {
        const k = readBytes(body, state, recEnd);
        headers.push({ key: k ? k.toString('utf8') : '', value: readBytes(body, state, recEnd) });
      }
      state.pos = recEnd;
      out.push({
        offset: baseOffset + offsetDelta,
        timestamp: logAppend ? maxTimestamp : baseTimestamp + tsDelta,
        key,
        value,
        headers,
      });
    }
    pos = end;
  }
  return out;
}
