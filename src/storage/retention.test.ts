import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { decodeRecords } from '../protocol/records.ts';
import { T0, batch, filesWith, harness } from './test-util.ts';

const DAY = 86_400_000;

describe('retention', () => {
  it('deletes closed segments older than retention.ms, never the active one', async (t) => {
    const h = await harness(t);
    const size = batch(2).length;
    const cfg = { segmentBytes: size * 2, retentionMs: DAY };
    const log = await h.open(cfg);
    // 6 batches, 2 per segment: segments [0..3], [4..7], [8..11]; timestamps by segment age
    for (let i = 0; i < 6; i++) {
      await log.append(batch(2, { timestamp: h.clock.now() }), { leaderEpoch: 0 });
      if (i === 1 || i === 3) h.clock.advance(DAY / 2);
    }
    assert.deepEqual(log.segmentBaseOffsets, [0, 4, 8]);
    assert.equal(await log.applyRetention(), 0);
    h.clock.advance(DAY / 2);
    // now: seg 0 newest record is 1.5 days old, seg 4 one day old (not more), seg 8 active
    assert.equal(await log.applyRetention(), 1);
    assert.deepEqual(log.segmentBaseOffsets, [4, 8]);
    assert.equal(log.logStartOffset, 4);
    assert.deepEqual(await filesWith(h.dir, '.log'), ['00000000000000000004.log', '00000000000000000008.log']);
    assert.deepEqual(await filesWith(h.dir, '.index'), ['00000000000000000004.index']);
    await assert.rejects(log.read(3, 1000), (e) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE);
    assert.equal(decodeRecords(Buffer.concat((await log.read(4, 1000)).records))[0]!.offset, 4);
    // everything is old: all closed segments go, the active one stays
    h.clock.advance(10 * DAY);
    assert.equal(await log.applyRetention(), 1);
    assert.deepEqual(log.segmentBaseOffsets, [8]);
    assert.equal(log.logStartOffset, 8);
    assert.equal((await log.append(batch(1), { leaderEpoch: 0 })).logStartOffset, 8);
    // reopen: the log starts at the first remaining segment
    await log.close();
    const again = await h.open(cfg);
    assert.equal(again.logStartOffset, 8);
    assert.equal(again.logEndOffset, 13);
    assert.deepEqual(again.leaderEpochEntries, [{ epoch: 0, startOffset: 8 }]);
  });

  it('deletes oldest segments while the log exceeds retention.bytes', async (t) => {
    const h = await harness(t);
    const size = batch(1).length;
    const log = await h.open({ segmentBytes: size * 2, retentionBytes: size * 5, retentionMs: -1 });
    for (let i = 0; i < 10; i++) await log.append(batch(1), { leaderEpoch: 0 });
    assert.equal(log.segmentCount, 5);
    assert.equal(log.sizeInBytes, size * 10);
    // deleting a segment of 2 batches keeps >= 5 batches: 2 segments go (10 → 8 → 6 batches)
    assert.equal(await log.applyRetention(), 2);
    assert.equal(log.sizeInBytes, size * 6);
    assert.equal(log.logStartOffset, 4);
    assert.equal(await log.applyRetention(), 0, 'within retention.bytes');
    // unlimited keeps everything
    log.config = { ...log.config, retentionBytes: -1 };
    for (let i = 0; i < 10; i++) await log.append(batch(1), { leaderEpoch: 0 });
    assert.equal(await log.applyRetention(), 0, 'unlimited');
    // retention.bytes 0 still keeps the active segment
    log.config = { ...log.config, retentionBytes: 0 };
    const closed = log.segmentCount - 1;
    assert.equal(await log.applyRetention(), closed);
    assert.equal(log.segmentCount, 1);
    assert.equal(log.logStartOffset, 18);
  });

  it('uses the file modification time for segments without timestamps', async (t) => {
    const h = await harness(t);
    const size = batch(1).length;
    const log = await h.open({ segmentBytes: size, retentionMs: DAY });
    await log.append(batch(1, { timestamp: -1 }), { leaderEpoch: 0 });
    await log.append(batch(1, { timestamp: -1 }), { leaderEpoch: 0 });
    assert.equal(log.segmentCount, 2);
    assert.equal(await log.applyRetention(), 0); // written just now (real mtime), clock at T0 in 2023
    const old = new Date(T0 - 2 * DAY);
    await fs.utimes(`${h.dir}/00000000000000000000.log`, old, old);
    assert.equal(await log.applyRetention(), 1);
  });

  it('lets a read in progress finish before the files are closed', async (t) => {
    const h = await harness(t);
    const size = batch(1).length;
    const log = await h.open({ segmentBytes: size, retentionMs: 0 });
    for (let i = 0; i < 3; i++) await log.append(batch(1, { timestamp: T0 - DAY }), { leaderEpoch: 0 });
    const reading = log.read(0, 1000);
    const deleting = log.applyRetention();
    const got = await reading;
    assert.equal(got.bytes, size);
    assert.equal(await deleting, 2);
  });
});

describe('retention and the cleaner run beside appends and reads', () => {
  it('produce, fetch and sync complete while a retention deletion is stuck removing files', async (t) => {
    const h = await harness(t);
    const size = batch(2).length;
    const log = await h.open({ segmentBytes: size * 2, retentionMs: DAY });
    for (let i = 0; i < 6; i++) await log.append(batch(2, { timestamp: T0 }), { leaderEpoch: 0 });
    h.clock.advance(2 * DAY);
    // Hold the removal of the deleted files until the appends and reads below are done.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rm = fs.rm;
    let removing = 0;
    fs.rm = (async (...args: Parameters<typeof fs.rm>) => {
      removing++;
      await gate;
      return rm(...args);
    }) as typeof fs.rm;
    t.after(() => {
      fs.rm = rm;
    });
    const retention = log.applyRetention();
    while (removing === 0) await new Promise((r) => setImmediate(r));
    const appended = await log.append(batch(2, { timestamp: h.clock.now() }), { leaderEpoch: 0 });
    await log.sync();
    const read = await log.read(appended.baseOffset, 1 << 20);
    assert.equal(decodeRecords(read.records[0]!).length, 2);
    assert.equal(log.logStartOffset, 8, 'the log start moved before the files were removed');
    release();
    assert.equal(await retention, 2);
    fs.rm = rm;
    assert.deepEqual(await filesWith(h.dir, '.deleted'), []);
  });
});
