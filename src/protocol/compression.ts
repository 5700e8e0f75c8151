/**
 * Record-batch compression codecs, as Kafka uses them: gzip, snappy (raw, or in the
 * xerial/snappy-java framing the Java producer writes), lz4 (the LZ4 frame format) and zstd.
 * The produce and fetch paths never call these — batches are stored as produced. They serve
 * the few places that must see inside a compressed batch (ListOffsets by timestamp, later
 * compaction and compression.type conversion).
 *
 * Decompression is bounded by `maxBytes` so a small hostile batch cannot expand without limit.
 */
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { Compression } from './record-batch.ts';

// snappy and lz4 are native addons loaded on first use: most brokers never see those codecs,
// and each addon costs a few MB of resident memory and milliseconds of start-up.
const require = createRequire(import.meta.url);
let snappyLib: typeof import('snappy') | undefined;
let lz4Lib: typeof import('lz4-napi') | undefined;
const snappy = () => (snappyLib ??= require('snappy') as typeof import('snappy'));
const lz4 = () => (lz4Lib ??= require('lz4-napi') as typeof import('lz4-napi'));
const snappyCompress = (data: Buffer) => snappy().compressSync(data);
const snappyUncompress = (data: Buffer) => snappy().uncompressSync(data) as Buffer;
const lz4Compress = (data: Buffer) => lz4().compressFrameSync(data);
const lz4Decompress = (data: Buffer) => lz4().decompressFrameSync(data);

export class CompressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompressionError';
  }
}

/** The 8-byte magic of snappy-java's framed stream, followed by two int32 versions. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

export function compress(codec: number, data: Buffer): Buffer {
  switch (codec) {
    case Compression.NONE:
      return data;
    case Compression.GZIP:
      return zlib.gzipSync(data);
    case Compression.SNAPPY:
      return snappyCompress(data);
    case Compression.LZ4:
      return lz4Compress(data);
    case Compression.ZSTD:
      return zlib.zstdCompressSync(data);
    default:
      throw new CompressionError(`unknown compression codec ${codec}`);
  }
}

export function decompress(codec: number, data: Buffer, maxBytes: number): Buffer {
  try {
    switch (codec) {
      case Compression.NONE:
        return data;
      case Compression.GZIP:
        return zlib.gunzipSync(data, { maxOutputLength: maxBytes });
      case Compression.SNAPPY:
        return snappyDecompress(data, maxBytes);
      case Compression.LZ4: {
        const out = lz4Decompress(data);
        if (out.length > maxBytes) throw new CompressionError(`lz4 data expands beyond ${maxBytes} bytes`);
        return out;
      }
      case Compression.ZSTD:
        return zlib.zstdDecompressSync(data, { maxOutputLength: maxBytes });
      default:
        throw new CompressionError(`unknown compression codec ${codec}`);
    }
  } catch (err) {
    if (err instanceof CompressionError) throw err;
    throw new CompressionError(`cannot decompress codec ${codec}: ${(err as Error).message}`);
  }
}

function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, 8).equals(XERIAL_MAGIC)) {
    return snappyBlock(data, maxBytes);
  }
  // snappy-java framing: header, then blocks of int32 compressed length + raw snappy block.
  const parts: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER;
  while (pos < data.length) {
    if (pos + 4 > data.length) throw new CompressionError('truncated snappy-java block length');
    const len = data.readInt32BE(pos);
    pos += 4;
    if (len < 0 || pos + len > data.length) throw new CompressionError('snappy-java block exceeds the data');
    const block = snappyBlock(data.subarray(pos, pos + len), maxBytes - total);
    parts.push(block);
    total += block.length;
    pos += len;
  }
  return Buffer.concat(parts, total);
}

/** A raw snappy block; its uncompressed length (a uvarint prefix) is checked first. */
function snappyBlock(data: Buffer, maxBytes: number): Buffer {
  let length = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= data.length) throw new CompressionError('truncated snappy length');
    const b = data[i]!;
    length += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
  }
  if (length > maxBytes) throw new CompressionError(`snappy data expands to ${length} bytes, beyond ${maxBytes}`);
  return snappyUncompress(data) as Buffer;
}
