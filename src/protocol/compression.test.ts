import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compressSync as snappyBlock } from 'snappy';
import { compress, decompress, CompressionError } from './compression.ts';
import { Compression, validateRecordSet } from './record-batch.ts';
import { buildRecordBatch, decodeRecords } from './records.ts';

const CODECS = [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];
const text = Buffer.from('tributary '.repeat(5000));

describe('compression codecs', () => {
  for (const codec of CODECS) {
    it(`round-trips codec ${codec}`, () => {
      const packed = compress(codec, text);
      assert.ok(packed.length < text.length / 10);
      assert.deepEqual(decompress(codec, packed, 1 << 20), text);
    });

    it(`refuses codec ${codec} data that expands beyond the limit`, () => {
      assert.throws(() => decompress(codec, compress(codec, text), 1000), CompressionError);
    });

    it(`reports garbage for codec ${codec} as CompressionError`, () => {
      assert.throws(() => decompress(codec, Buffer.from('definitely not compressed data'), 1 << 20), CompressionError);
    });

    it(`builds and decodes a batch compressed with codec ${codec}`, () => {
      const batch = buildRecordBatch({
        compression: codec,
        baseTimestamp: 1_700_000_000_000,
        records: Array.from({ length: 50 }, (_, i) => ({
          key: Buffer.from(`k${i}`),
          value: Buffer.from(`value ${i} `.repeat(20)),
          headers: [{ key: 'i', value: Buffer.from(String(i)) }],
          timestamp: 1_700_000_000_000 + i,
        })),
      });
      const v = validateRecordSet(batch);
      assert.ok(!('code' in v), JSON.stringify(v));
      assert.equal(v.batches[0]!.compression, codec);
      const records = decodeRecords(batch);
      assert.equal(records.length, 50);
      assert.equal(records[49]!.value!.toString(), 'value 49 '.repeat(20));
      assert.equal(records[7]!.timestamp, 1_700_000_000_007);
      assert.equal(records[3]!.headers[0]!.value!.toString(), '3');
    });
  }

  it('reads the snappy-java (xerial) framing the Java producer writes', () => {
    const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
    const a = snappyBlock(text.subarray(0, 20000));
    const b = snappyBlock(text.subarray(20000));
    const len = (n: number) => {
      const x = Buffer.alloc(4);
      x.writeInt32BE(n, 0);
      return x;
    };
    const framed = Buffer.concat([header, len(a.length), a, len(b.length), b]);
    assert.deepEqual(decompress(Compression.SNAPPY, framed, 1 << 20), text);
    assert.throws(() => decompress(Compression.SNAPPY, framed.subarray(0, framed.length - 3), 1 << 20), CompressionError);
  });
});
