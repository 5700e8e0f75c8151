import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IndexFormatError, OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';
import { LeaderEpochCache } from './leader-epoch-cache.ts';

describe('offset index', () => {
  it('finds the entry with the largest offset <= target, or the segment start', () => {
    const idx = new OffsetIndex(100, 1000, 2);
    idx.append(109, 4100);
    idx.append(130, 8300);
    idx.append(150, 12_500);
    assert.deepEqual(idx.lookup(100), { offset: 100, position: 0 });
    assert.deepEqual(idx.lookup(108), { offset: 100, position: 0 });
    assert.deepEqual(idx.lookup(109), { offset: 109, position: 4100 });
    assert.deepEqual(idx.lookup(149), { offset: 130, position: 8300 });
    assert.deepEqual(idx.lookup(10_000), { offset: 150, position: 12_500 });
    assert.equal(idx.entries, 3);
    assert.equal(idx.lastOffset, 150);
  });

  it('round-trips through Kafka’s 8-byte entry format', () => {
    const idx = new OffsetIndex(1 << 20, 10);
    idx.append((1 << 20) + 5, 99);
    idx.append((1 << 20) + 9, 300);
    const buf = idx.toBuffer();
    assert.equal(buf.length, 16);
    assert.equal(buf.readInt32BE(0), 5);
    assert.equal(buf.readInt32BE(4), 99);
    const back = OffsetIndex.fromBuffer(1 << 20, buf, { maxEntries: 10, logSize: 400, endOffset: (1 << 20) + 10 });
    assert.deepEqual(back.lookup((1 << 20) + 9), { offset: (1 << 20) + 9, position: 300 });
  });

  it('refuses inconsistent index files', () => {
    const good = new OffsetIndex(0, 10);
    good.append(5, 100);
    good.append(9, 200);
    const buf = good.toBuffer();
    const opts = { maxEntries: 10, logSize: 300, endOffset: 10 };
    assert.throws(() => OffsetIndex.fromBuffer(0, buf.subarray(0, 12), opts), IndexFormatError);
    assert.throws(() => OffsetIndex.fromBuffer(0, buf, { ...opts, logSize: 150 }), IndexFormatError);
    assert.throws(() => OffsetIndex.fromBuffer(0, buf, { ...opts, endOffset: 8 }), IndexFormatError);
    const swapped = Buffer.concat([buf.subarray(8), buf.subarray(0, 8)]);
    assert.throws(() => OffsetIndex.fromBuffer(0, swapped, opts), IndexFormatError);
  });

  it('is full at segment.index.bytes / 8 entries', () => {
    const idx = new OffsetIndex(0, OffsetIndex.maxEntriesFor(24));
    idx.append(1, 10);
    idx.append(2, 20);
    assert.equal(idx.isFull, false);
    idx.append(3, 30);
    assert.equal(idx.isFull, true);
  });
});

describe('time index', () => {
  it('only appends growing timestamps and looks up the largest timestamp <= target', () => {
    const idx = new TimeIndex(0, 100);
    assert.equal(idx.maybeAppend(1000, 4), true);
    assert.equal(idx.maybeAppend(1000, 9), false);
    assert.equal(idx.maybeAppend(900, 9), false);
    assert.equal(idx.maybeAppend(2000, 12), true);
    assert.equal(idx.lookup(999), null);
    assert.deepEqual(idx.lookup(1000), { timestamp: 1000, offset: 4 });
    assert.deepEqual(idx.lookup(1999), { timestamp: 1000, offset: 4 });
    assert.deepEqual(idx.lookup(5000), { timestamp: 2000, offset: 12 });
  });

  it('round-trips through Kafka’s 12-byte entry format and rejects disorder', () => {
    const idx = new TimeIndex(50, 100);
    idx.maybeAppend(1_700_000_000_123, 55);
    idx.maybeAppend(1_700_000_000_999, 60);
    const buf = idx.toBuffer();
    assert.equal(buf.length, 24);
    assert.equal(buf.readBigInt64BE(0), 1_700_000_000_123n);
    assert.equal(buf.readInt32BE(8), 5);
    const back = TimeIndex.fromBuffer(50, buf, { maxEntries: 100, endOffset: 61 });
    assert.deepEqual(back.last, { timestamp: 1_700_000_000_999, offset: 60 });
    const swapped = Buffer.concat([buf.subarray(12), buf.subarray(0, 12)]);
    assert.throws(() => TimeIndex.fromBuffer(50, swapped, { maxEntries: 100, endOffset: 61 }), IndexFormatError);
    assert.throws(() => TimeIndex.fromBuffer(50, buf, { maxEntries: 100, endOffset: 60 }), IndexFormatError);
  });
});

describe('leader-epoch cache', () => {
  it('answers OffsetForLeaderEpoch like Kafka', () => {
    const c = new LeaderEpochCache();
    assert.deepEqual(c.endOffsetFor(0, 10), { leaderEpoch: -1, endOffset: -1 });
    assert.equal(c.assign(2, 10), true);
    assert.equal(c.assign(2, 20), false);
    assert.equal(c.assign(1, 30), false);
    assert.equal(c.assign(5, 40), true);
    assert.deepEqual(c.endOffsetFor(5, 99), { leaderEpoch: 5, endOffset: 99 });
    assert.deepEqual(c.endOffsetFor(2, 99), { leaderEpoch: 2, endOffset: 40 });
    assert.deepEqual(c.endOffsetFor(3, 99), { leaderEpoch: 2, endOffset: 40 });
    assert.deepEqual(c.endOffsetFor(1, 99), { leaderEpoch: 1, endOffset: 10 });
    assert.deepEqual(c.endOffsetFor(6, 99), { leaderEpoch: -1, endOffset: -1 });
    assert.deepEqual(c.endOffsetFor(-1, 99), { leaderEpoch: -1, endOffset: -1 });
  });

  it('uses Kafka’s checkpoint text format', () => {
    const c = new LeaderEpochCache([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 1500 },
    ]);
    assert.equal(c.serialize(), '0\n2\n0 0\n3 1500\n');
    assert.deepEqual(LeaderEpochCache.parse(c.serialize()).entries, c.entries);
    assert.throws(() => LeaderEpochCache.parse('0\n3\n0 0\n'));
    assert.throws(() => LeaderEpochCache.parse('1\n0\n'));
  });

  it('truncates from the end and from the start', () => {
    const c = new LeaderEpochCache([
      { epoch: 0, startOffset: 0 },
      { epoch: 1, startOffset: 100 },
      { epoch: 2, startOffset: 200 },
    ]);
    assert.equal(c.truncateFromStart(150), true);
    assert.deepEqual(c.entries, [
      { epoch: 1, startOffset: 150 },
      { epoch: 2, startOffset: 200 },
    ]);
    assert.equal(c.truncateFromEnd(200), true);
    assert.deepEqual(c.entries, [{ epoch: 1, startOffset: 150 }]);
    assert.equal(c.truncateFromEnd(200), false);
  });
});
