import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import {
  ATTR_TIMESTAMP_TYPE,
  batchBaseOffset,
  batchLeaderEpoch,
  batchMaxTimestamp,
  computeBatchCrc,
  validateRecordSet,
} from '../protocol/record-batch.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import { compress as codecCompress } from '../protocol/compression.ts';
import { T0, batch, compressBatch, filesWith, harness } from './test-util.ts';

const offsetsOf = (r: { records: Buffer[] }) => decodeRecords(Buffer.concat(r.records)).map((x) => x.offset);
const isRange = (code: number) => (err: unknown) => err instanceof KafkaError && err.code === code;

describe('PartitionLog append and read', () => {
  it('assigns offsets synchronously in call order and rewrites base offsets in place', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const a = batch(3);
    const b = batch(2);
    const pa = log.append(a, { leaderEpoch: 4 });
    const pb = log.append(b, { leaderEpoch: 4 });
    // assigned before any write completed
    assert.equal(log.logEndOffset, 5);
    assert.equal(batchBaseOffset(a), 0);
    assert.equal(batchBaseOffset(b), 3);
    assert.equal(batchLeaderEpoch(b), 4);
    assert.deepEqual(await pa, { baseOffset: 0, lastOffset: 2, logAppendTime: -1, logStartOffset: 0 });
    assert.deepEqual(await pb, { baseOffset: 3, lastOffset: 4, logAppendTime: -1, logStartOffset: 0 });
    assert.equal(log.highWatermark, 5);
    const read = await log.read(0, 1 << 20);
    assert.deepEqual(offsetsOf(read), [0, 1, 2, 3, 4]);
    assert.deepEqual(Buffer.concat(read.records), Buffer.concat([a, b]));
    assert.equal(read.bytes, a.length + b.length);
    assert.equal(log.sizeInBytes, a.length + b.length);
  });

  it('accepts several batches in one append, with or without batch summaries', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const set = Buffer.concat([batch(2, { prefix: 'a' }), batch(3, { prefix: 'b' })]);
    const v = validateRecordSet(set);
    assert.ok(!('code' in v));
    assert.deepEqual(await log.append(set, { leaderEpoch: 0, batches: v.batches }), {
      baseOffset: 0,
      lastOffset: 4,
      logAppendTime: -1,
      logStartOffset: 0,
    });
    const more = Buffer.concat([batch(1, { prefix: 'c' }), batch(1, { prefix: 'd' })]);
    assert.equal((await log.append(more, { leaderEpoch: 0 })).lastOffset, 6);
    const recs = decodeRecords(Buffer.concat((await log.read(0, 1 << 20)).records));
    assert.deepEqual(
      recs.map((r) => `${r.offset}:${r.value}`),
      ['0:a-0', '1:a-1', '2:b-0', '3:b-1', '4:b-2', '5:c-0', '6:d-0'],
    );
    await assert.rejects(log.append(Buffer.alloc(30), { leaderEpoch: 0 }), isRange(ErrorCode.CORRUPT_MESSAGE));
  });

  it('stamps LogAppendTime with a valid CRC', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const b = batch(2, { timestamp: T0 - 5000 });
    const res = await log.append(b, { leaderEpoch: 0, logAppendTime: T0 + 7 });
    assert.equal(res.logAppendTime, T0 + 7);
    const stored = Buffer.concat((await log.read(0, 1 << 20)).records);
    assert.equal(batchMaxTimestamp(stored), T0 + 7);
    assert.ok(stored.readInt16BE(21) & ATTR_TIMESTAMP_TYPE);
    assert.equal(stored.readUInt32BE(17), computeBatchCrc(stored));
    // every record carries the append time: the first one is the answer
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 0, timestamp: T0 + 7 });
  });

  it('reads across many segments, at boundaries and from the middle of a batch', async (t) => {
    const h = await harness(t);
    const log = await h.open({ segmentBytes: 400, indexIntervalBytes: 100 });
    const all: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      const b = batch(3, { prefix: `b${i}` });
      all.push(b);
      await log.append(b, { leaderEpoch: 0 });
    }
    assert.ok(log.segmentCount > 5, `expected several segments, got ${log.segmentCount}`);
    const bases = log.segmentBaseOffsets;
    assert.equal(bases[0], 0);
    assert.deepEqual(await filesWith(h.dir, '.log'), bases.map((b) => `${String(b).padStart(20, '0')}.log`));
    // every offset: the first returned batch holds it
    for (let o = 0; o < 90; o++) {
      const r = await log.read(o, 1 << 20);
      const offs = offsetsOf(r);
      assert.ok(offs.includes(o), `offset ${o} in ${offs.join(',')}`);
      assert.equal(offs[0], o - (o % 3));
      assert.ok(r.bytes > 0);
    }
    // at a segment boundary the read starts at that segment's first batch
    const boundary = bases[2]!;
    assert.equal(offsetsOf(await log.read(boundary, 1 << 20))[0], boundary);
    // whole content, segment by segment
    const seen: number[] = [];
    let next = 0;
    while (next < log.logEndOffset) {
      const offs = offsetsOf(await log.read(next, 1 << 20));
      seen.push(...offs);
      next = offs[offs.length - 1]! + 1;
    }
    assert.deepEqual(seen, Array.from({ length: 90 }, (_, i) => i));
  });

  it('respects maxBytes with whole batches, minOneBatch and maxOffset', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    const big = batch(4, { valueSize: 500 });
    const small1 = batch(1);
    const small2 = batch(1);
    await log.append(big, { leaderEpoch: 0 });
    await log.append(small1, { leaderEpoch: 0 });
    await log.append(small2, { leaderEpoch: 0 });
    // oversized first batch: whole with minOneBatch, nothing without
    const one = await log.read(0, 10, { minOneBatch: true });
    assert.equal(one.bytes, big.length);
    assert.deepEqual(offsetsOf(one), [0, 1, 2, 3]);
    assert.deepEqual(await log.read(0, 10, { minOneBatch: false }), { records: [], bytes: 0 });
    // whole batches only
    const two = await log.read(0, big.length + small1.length + 5);
    assert.equal(two.bytes, big.length + small1.length);
    // maxOffset is exclusive and cuts at batch granularity
    assert.deepEqual(offsetsOf(await log.read(0, 1 << 20, { maxOffset: 5 })), [0, 1, 2, 3, 4]);
    assert.deepEqual(offsetsOf(await log.read(0, 1 << 20, { maxOffset: 4 })), [0, 1, 2, 3]);
    assert.equal((await log.read(4, 1 << 20, { maxOffset: 4 })).bytes, 0);
    assert.equal((await log.read(0, 1 << 20, { maxOffset: 3 })).bytes, 0);
  });

  it('throws OFFSET_OUT_OF_RANGE outside [logStartOffset, logEndOffset] and is empty at the end', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    await log.append(batch(2), { leaderEpoch: 0 });
    await assert.rejects(log.read(3, 100), isRange(ErrorCode.OFFSET_OUT_OF_RANGE));
    await assert.rejects(log.read(-1, 100), isRange(ErrorCode.OFFSET_OUT_OF_RANGE));
    assert.deepEqual(await log.read(2, 100), { records: [], bytes: 0 });
  });

  it('rolls by segment.bytes and by segment.ms, never leaving an empty segment behind', async (t) => {
    const h = await harness(t);
    const size = batch(1).length;
    const log = await h.open({ segmentBytes: size * 2, segmentMs: 60_000 });
    await log.append(batch(1), { leaderEpoch: 0 });
    await log.append(batch(1), { leaderEpoch: 0 });
    assert.deepEqual(log.segmentBaseOffsets, [0]);
    await log.append(batch(1), { leaderEpoch: 0 });
    assert.deepEqual(log.segmentBaseOffsets, [0, 2]);
    // an oversized append goes whole into a fresh segment
    await log.append(batch(5), { leaderEpoch: 0 });
    assert.deepEqual(log.segmentBaseOffsets, [0, 2, 3]);
    // time: the active segment (non-empty) rolls once older than segment.ms
    const h2 = await harness(t);
    const timed = await h2.open({ segmentMs: 60_000 });
    h2.clock.advance(120_000); // an empty segment never rolls
    await timed.append(batch(1), { leaderEpoch: 0 });
    h2.clock.advance(60_000);
    await timed.append(batch(1), { leaderEpoch: 0 });
    assert.deepEqual(timed.segmentBaseOffsets, [0]);
    h2.clock.advance(1);
    await timed.append(batch(1), { leaderEpoch: 0 });
    assert.deepEqual(timed.segmentBaseOffsets, [0, 2]);
    // closed segments get their index files
    assert.deepEqual(await filesWith(h2.dir, '.index'), ['00000000000000000000.index']);
    assert.deepEqual(await filesWith(h2.dir, '.timeindex'), ['00000000000000000000.timeindex']);
  });

  it('rolls when the offset index would be full', async (t) => {
    const h = await harness(t);
    // 2 entries per index; an entry every batch (interval 1 byte)
    const log = await h.open({ segmentIndexBytes: 24, indexIntervalBytes: 1 });
    for (let i = 0; i < 8; i++) await log.append(batch(1), { leaderEpoch: 0 });
    assert.ok(log.segmentCount >= 3);
    assert.deepEqual(offsetsOf(await log.read(5, 1 << 20)).slice(0, 1), [5]);
  });

  it('reopens with everything preserved', async (t) => {
    const h = await harness(t);
    const cfg = { segmentBytes: 500, indexIntervalBytes: 64 };
    const log = await h.open(cfg);
    for (let i = 0; i < 20; i++) await log.append(batch(2, { timestamp: T0 + i * 1000 }), { leaderEpoch: i < 10 ? 1 : 2 });
    const before = Buffer.concat((await log.read(0, 1 << 20)).records);
    const bases = log.segmentBaseOffsets;
    const maxTs = await log.maxTimestampOffset();
    await log.close();
    assert.ok((await fs.stat(path.join(h.dir, '00000000000000000000.index'))).size >= 16);
    assert.ok((await fs.stat(path.join(h.dir, '00000000000000000000.timeindex'))).size >= 12);
    await assert.rejects(log.append(batch(1), { leaderEpoch: 2 }), isRange(ErrorCode.KAFKA_STORAGE_ERROR));
    const again = await h.open(cfg);
    assert.deepEqual(again.segmentBaseOffsets, bases);
    assert.equal(again.logEndOffset, 40);
    assert.equal(again.highWatermark, 40);
    assert.deepEqual(Buffer.concat((await again.read(0, 1 << 20)).records), before);
    assert.deepEqual(await again.maxTimestampOffset(), maxTs);
    assert.deepEqual(again.leaderEpochEntries, [
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: 20 },
    ]);
    assert.equal(
      await fs.readFile(path.join(h.dir, 'leader-epoch-checkpoint'), 'utf8'),
      '0\n2\n1 0\n2 20\n',
    );
    assert.deepEqual(again.endOffsetForEpoch(1), { leaderEpoch: 1, endOffset: 20 });
    assert.deepEqual(again.endOffsetForEpoch(2), { leaderEpoch: 2, endOffset: 40 });
    assert.deepEqual(again.endOffsetForEpoch(0), { leaderEpoch: 0, endOffset: 0 });
    assert.deepEqual(again.endOffsetForEpoch(3), { leaderEpoch: -1, endOffset: -1 });
    assert.equal((await again.append(batch(1), { leaderEpoch: 2 })).baseOffset, 40);
  });
});

describe('PartitionLog timestamps', () => {
  it('finds offsets by timestamp through the time index, to the record', async (t) => {
    const h = await harness(t);
    const log = await h.open({ segmentBytes: 2000, indexIntervalBytes: 100 });
    // batch i holds 4 records with timestamps T0 + 100*i + {0,1,2,3}
    for (let i = 0; i < 50; i++) await log.append(batch(4, { timestamp: T0 + 100 * i }), { leaderEpoch: 0 });
    assert.ok(log.segmentCount > 2);
    assert.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: T0 });
    assert.deepEqual(await log.offsetForTimestamp(T0), { offset: 0, timestamp: T0 });
    assert.deepEqual(await log.offsetForTimestamp(T0 + 2), { offset: 2, timestamp: T0 + 2 });
    assert.deepEqual(await log.offsetForTimestamp(T0 + 4), { offset: 4, timestamp: T0 + 100 });
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(await log.offsetForTimestamp(T0 + 100 * i + 3), { offset: 4 * i + 3, timestamp: T0 + 100 * i + 3 });
      assert.deepEqual(await log.offsetForTimestamp(T0 + 100 * i - 50), { offset: 4 * i, timestamp: T0 + 100 * i });
    }
    assert.equal(await log.offsetForTimestamp(T0 + 100 * 49 + 4), null);
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 199, timestamp: T0 + 4903 });
  });

  it('handles out-of-order timestamps: the first record at or after the target', async (t) => {
    const h = await harness(t);
    const log = await h.open({ indexIntervalBytes: 1 });
    const b = buildRecordBatch({
      baseTimestamp: T0,
      records: [
        { value: Buffer.from('a'), timestamp: T0 + 50 },
        { value: Buffer.from('b'), timestamp: T0 + 10 },
        { value: Buffer.from('c'), timestamp: T0 + 90 },
      ],
    });
    await log.append(batch(1, { timestamp: T0 + 100 }), { leaderEpoch: 0 });
    await log.append(b, { leaderEpoch: 0 });
    await log.append(batch(1, { timestamp: T0 + 60 }), { leaderEpoch: 0 });
    assert.deepEqual(await log.offsetForTimestamp(T0 + 20), { offset: 0, timestamp: T0 + 100 });
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 0, timestamp: T0 + 100 });
    assert.equal(await log.offsetForTimestamp(T0 + 101), null);
  });

  it('LogAppendTime batches answer with their base offset', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    await log.append(batch(3), { leaderEpoch: 0, logAppendTime: T0 + 500 });
    await log.append(batch(3), { leaderEpoch: 0, logAppendTime: T0 + 900 });
    assert.deepEqual(await log.offsetForTimestamp(T0 + 600), { offset: 3, timestamp: T0 + 900 });
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 3, timestamp: T0 + 900 });
  });
});

describe('PartitionLog record-level lookups', () => {
  it('MAX_TIMESTAMP names the record with the largest timestamp, the first on ties', async (t) => {
    const h = await harness(t);
    const log = await h.open();
    assert.equal(await log.maxTimestampOffset(), null);
    const late = buildRecordBatch({
      baseTimestamp: T0,
      records: [0, 1, 2, 99_000, 4, 99_000, 6].map((d) => ({ value: Buffer.from('x'), timestamp: T0 + d })),
    });
    await log.append(batch(3, { timestamp: T0 + 50_000 }), { leaderEpoch: 0 });
    await log.append(late, { leaderEpoch: 0 });
    await log.append(batch(2, { timestamp: T0 + 60_000 }), { leaderEpoch: 0 });
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 6, timestamp: T0 + 99_000 });
  });

  for (const [name, codec, squash] of [
    ['gzip', 1, (b: Buffer) => zlib.gzipSync(b)],
    ['zstd', 4, (b: Buffer) => zlib.zstdCompressSync(b)],
    ['lz4', 3, (b: Buffer) => codecCompress(3, b)],
    ['snappy', 2, (b: Buffer) => codecCompress(2, b)],
  ] as const) {
    it(`looks inside ${name}-compressed batches`, async (t) => {
      const h = await harness(t);
      const log = await h.open();
      const plain = buildRecordBatch({
        baseTimestamp: T0,
        records: [0, 100, 200, 300, 99_000, 500].map((d, i) => ({ value: Buffer.from(`v${i}`), timestamp: T0 + d })),
      });
      await log.append(compressBatch(plain, codec, squash), { leaderEpoch: 0 });
      assert.deepEqual(await log.offsetForTimestamp(T0 + 250), { offset: 3, timestamp: T0 + 300 });
      assert.deepEqual(await log.maxTimestampOffset(), { offset: 4, timestamp: T0 + 99_000 });
    });
  }

  it('falls back to the batch level for a batch whose records cannot be decoded', async (t) => {
    const h = await harness(t);
    const plain = buildRecordBatch({
      baseTimestamp: T0,
      records: [0, 100, 900, 300].map((d) => ({ value: Buffer.from('v'), timestamp: T0 + d })),
    });
    // "snappy" whose payload is not snappy data: the CRC is valid, decompression fails
    const bogus = compressBatch(plain, 2, (b) => Buffer.from(b));
    const log = await h.open();
    await log.append(bogus, { leaderEpoch: 0 });
    assert.deepEqual(await log.offsetForTimestamp(T0 + 50), { offset: 0, timestamp: T0 + 900 });
    assert.deepEqual(await log.maxTimestampOffset(), { offset: 3, timestamp: T0 + 900 });
  });
});
