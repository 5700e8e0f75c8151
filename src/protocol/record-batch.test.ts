import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  batchBaseOffset,
  batchMaxTimestamp,
  computeBatchCrc,
  readInt53,
  setBatchBaseOffset,
  stampLogAppendTime,
  validateRecordSet,
  writeInt53,
  ATTR_TIMESTAMP_TYPE,
} from './record-batch.ts';
import { buildRecordBatch, decodeRecords } from './records.ts';

const sample = () =>
  buildRecordBatch({
    baseTimestamp: 1_700_000_000_000,
    records: [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }] },
      { key: null, value: Buffer.from('v2'), timestamp: 1_700_000_000_010 },
    ],
  });

function refreshCrc(b: Buffer): void {
  b.writeUInt32BE(computeBatchCrc(b, 0), 17);
}

describe('record batch validation', () => {
  it('accepts well-formed batches and summarises them', () => {
    const two = Buffer.concat([sample(), sample()]);
    const v = validateRecordSet(two);
    assert.ok(!('code' in v));
    assert.equal(v.recordCount, 4);
    assert.equal(v.batches.length, 2);
    assert.equal(v.batches[1]!.pos, sample().length);
    assert.equal(v.batches[0]!.maxTimestamp, 1_700_000_000_010);
  });

  it('rejects a CRC mismatch as CORRUPT_MESSAGE', () => {
    const b = sample();
    b[b.length - 1]! ^= 0xff;
    assert.equal((validateRecordSet(b) as { code: string }).code, 'CORRUPT_MESSAGE');
  });

  it('rejects old magic as INVALID_RECORD (as Kafka 4) and garbage magic as CORRUPT_MESSAGE', () => {
    const b = sample();
    b.writeInt8(1, 16);
    assert.equal((validateRecordSet(b) as { code: string }).code, 'INVALID_RECORD');
    b.writeInt8(7, 16);
    assert.equal((validateRecordSet(b) as { code: string }).code, 'CORRUPT_MESSAGE');
  });

  it('rejects a record count that disagrees with lastOffsetDelta or with the records', () => {
    const b = sample();
    b.writeInt32BE(5, 23);
    refreshCrc(b);
    assert.equal((validateRecordSet(b) as { code: string }).code, 'INVALID_RECORD');
    const c = sample();
    c.writeInt32BE(3, 23);
    c.writeInt32BE(4, 57);
    refreshCrc(c);
    assert.match((validateRecordSet(c) as { message: string }).message, /declares 4 records but holds 2/);
  });

  it('rejects unknown codecs, control batches, truncation and empty sets', () => {
    const codec = sample();
    codec.writeInt16BE(5, 21);
    refreshCrc(codec);
    assert.equal((validateRecordSet(codec) as { code: string }).code, 'UNSUPPORTED_COMPRESSION_TYPE');
    const control = sample();
    control.writeInt16BE(0x20, 21);
    refreshCrc(control);
    assert.equal((validateRecordSet(control) as { code: string }).code, 'INVALID_RECORD');
    assert.equal((validateRecordSet(sample().subarray(0, 40)) as { code: string }).code, 'CORRUPT_MESSAGE');
    assert.equal((validateRecordSet(Buffer.alloc(0)) as { code: string }).code, 'INVALID_RECORD');
  });

  it('never throws on arbitrary mutations of a valid batch', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (edits, cut) => {
        const b = sample();
        for (const [pos, val] of edits) b[pos % b.length] = val;
        validateRecordSet(b.subarray(0, cut % (b.length + 1)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('record batch rewriting', () => {
  it('rewrites the base offset without touching the CRC', () => {
    const b = sample();
    const crc = b.readUInt32BE(17);
    setBatchBaseOffset(b, 0, 2 ** 40 + 7);
    assert.equal(batchBaseOffset(b), 2 ** 40 + 7);
    assert.equal(b.readUInt32BE(17), crc);
    assert.ok(!('code' in validateRecordSet(b)));
    assert.deepEqual(decodeRecords(b).map((r) => r.offset), [2 ** 40 + 7, 2 ** 40 + 8]);
  });

  it('stamps LogAppendTime and keeps the CRC valid', () => {
    const b = sample();
    stampLogAppendTime(b, 0, 1_800_000_000_000);
    assert.ok(!('code' in validateRecordSet(b)));
    assert.equal(batchMaxTimestamp(b), 1_800_000_000_000);
    assert.ok(b.readInt16BE(21) & ATTR_TIMESTAMP_TYPE);
    assert.deepEqual(decodeRecords(b).map((r) => r.timestamp), [1_800_000_000_000, 1_800_000_000_000]);
  });

  it('int53 helpers round-trip negative and large values', () => {
    const b = Buffer.alloc(8);
    for (const v of [0, -1, 1, 2 ** 32, -(2 ** 40), Number.MAX_SAFE_INTEGER]) {
      writeInt53(b, 0, v);
      assert.equal(readInt53(b, 0), v);
      assert.equal(b.readBigInt64BE(0), BigInt(v));
    }
  });
});
