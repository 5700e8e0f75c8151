/**
 * Decoding the records of ONE stored batch, off the hot path: ListOffsets by timestamp and
 * MAX_TIMESTAMP look inside a single batch to name the exact record, as Kafka does.
 * Compressed batches need a decompressor: gzip and zstd come from node:zlib; other codecs
 * (snappy, lz4) can be supplied by the caller (`PartitionLogOptions.decompress`). Without one
 * the callers fall back to batch-level answers.
 */
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TIMESTAMP_TYPE,
  BATCH_HEADER_SIZE,
  Compression,
  LOG_OVERHEAD,
  OFFSET_ATTRIBUTES,
} from '../protocol/record-batch.ts';
import { decodeRecords, type DecodedRecord } from '../protocol/records.ts';

/** Returns the decompressed records section, or null when the codec is not supported. */
export type Decompressor = (codec: number, data: Buffer) => Promise<Buffer | null>;

const gunzip = promisify(zlib.gunzip);
const zstd = typeof zlib.zstdDecompress === 'function' ? promisify(zlib.zstdDecompress) : null;

export const builtinDecompress: Decompressor = async (codec, data) => {
  if (codec === Compression.GZIP) return gunzip(data);
  if (codec === Compression.ZSTD && zstd) return zstd(data);
  return null;
};

/**
 * The records of one whole batch (`batch` holds exactly one batch), or null when it is
 * compressed with a codec `decompress` does not handle or its records are malformed.
 * LogAppendTime batches report the batch timestamp for every record, as consumers see it.
 */
export async function batchRecords(batch: Buffer, decompress: Decompressor): Promise<DecodedRecord[] | null> {
  const attrs = batch.readInt16BE(OFFSET_ATTRIBUTES);
  const codec = attrs & ATTR_COMPRESSION_MASK;
  try {
    if (codec === Compression.NONE) return decodeRecords(batch);
    const inner = await decompress(codec, batch.subarray(BATCH_HEADER_SIZE));
    if (!inner) return null;
    // An uncompressed twin of the batch: same header without the codec bits, plain records.
    const plain = Buffer.allocUnsafe(BATCH_HEADER_SIZE + inner.length);
    batch.copy(plain, 0, 0, BATCH_HEADER_SIZE);
    plain.writeInt32BE(plain.length - LOG_OVERHEAD, 8);
    plain.writeInt16BE(attrs & ~ATTR_COMPRESSION_MASK, OFFSET_ATTRIBUTES);
    inner.copy(plain, BATCH_HEADER_SIZE);
    return decodeRecords(plain);
  } catch {
    return null;
  }
}

export function isLogAppendTime(batch: Buffer): boolean {
  return (batch.readInt16BE(OFFSET_ATTRIBUTES) & ATTR_TIMESTAMP_TYPE) !== 0;
}
