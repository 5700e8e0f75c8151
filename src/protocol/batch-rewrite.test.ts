/** recompressBatch and recordsWithoutKey: every codec pair, header fields kept, bad input refused. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchRecordsError, recordsWithoutKey, recompressBatch } from './batch-rewrite.ts';
import { Compression, OFFSET_ATTRIBUTES, OFFSET_CRC, validateRecordSet } from './record-batch.ts';
import { buildRecordBatch, decodeRecords, type BatchInput } from './records.ts';

const CODECS = Object.entries(Compression);

function input(compression: number): BatchInput {
  return {
    baseOffset: 0,
    compression,
    baseTimestamp: 1_700_000_000_000,
    producerId: 42,
    producerEpoch: 3,
    baseSequence: 7,
    partitionLeaderEpoch: 5,
    attributes: 0x10, // transactional
    records: [
      { key: Buffer.from('k0'), value: Buffer.from('v0'.repeat(50)), timestamp: 1_700_000_000_000 },
      { key: null, value: null, headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: 1_700_000_000_500 },
      { key: Buffer.alloc(0), value: Buffer.from('v2'), headers: [{ key: 'n', value: null }], timestamp: 1_699_999_999_000 },
    ],
  };
}

describe('recompressBatch', () => {
  for (const [fromName, from] of CODECS) {
    for (const [toName, to] of CODECS) {
      test(`${fromName} → ${toName} keeps records and header fields`, () => {
        const original = buildRecordBatch(input(from));
        const out = recompressBatch(original, to);
        const validated = validateRecordSet(out);
        assert.ok(!('code' in validated), JSON.stringify(validated));
        assert.equal(validated.batches[0]!.compression, to);
        assert.equal(out.readInt16BE(OFFSET_ATTRIBUTES), (original.readInt16BE(OFFSET_ATTRIBUTES) & ~7) | to);
        // Everything in the header before the CRC, and after the attributes, is unchanged.
        assert.deepEqual(out.subarray(0, 8), original.subarray(0, 8));
        assert.deepEqual(out.subarray(12, OFFSET_CRC), original.subarray(12, OFFSET_CRC));
        assert.deepEqual(out.subarray(OFFSET_ATTRIBUTES + 2, 61), original.subarray(OFFSET_ATTRIBUTES + 2, 61));
        assert.deepEqual(decodeRecords(out), decodeRecords(original));
        if (from === to) assert.equal(out, original, 'same codec: the batch itself');
      });
    }
  }

  test('a compressed batch whose data is garbage → BatchRecordsError', () => {
    const b = buildRecordBatch(input(Compression.GZIP));
    b.fill(0x55, 70);
    assert.throws(() => recompressBatch(b, Compression.NONE), BatchRecordsError);
  });

  test('a record count that does not match the records → BatchRecordsError', () => {
    const b = buildRecordBatch(input(Compression.NONE));
    b.writeInt32BE(4, 57);
    assert.throws(() => recompressBatch(b, Compression.ZSTD), /declares 4 records but holds 3/);
  });
});

describe('recordsWithoutKey', () => {
  for (const [name, codec] of CODECS) {
    test(`${name}: finds the null keys; an empty key is a key`, () => {
      assert.deepEqual(recordsWithoutKey(buildRecordBatch(input(codec))), [1]);
      const keyed = input(codec);
      keyed.records = keyed.records.map((r, i) => ({ ...r, key: Buffer.from(`k${i}`) }));
      keyed.records[2]!.key = Buffer.alloc(0);
      assert.deepEqual(recordsWithoutKey(buildRecordBatch(keyed)), []);
      keyed.records.forEach((r) => (r.key = null));
      assert.deepEqual(recordsWithoutKey(buildRecordBatch(keyed)), [0, 1, 2]);
    });
  }

  test('a truncated record → BatchRecordsError', () => {
    const b = buildRecordBatch({ records: [{ key: null, value: Buffer.from('abc') }] });
    b.writeUInt8(0x7e, 61); // record length 63: beyond the batch
    assert.throws(() => recordsWithoutKey(b), BatchRecordsError);
  });
});
