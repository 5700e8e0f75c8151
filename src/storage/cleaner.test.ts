import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import fc from 'fast-check';
import { Compression } from '../protocol/record-batch.ts';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { CleanerModel, appendKeyed, readAll } from './cleaner-model.ts';
import { T0, harness } from './test-util.ts';
import type { PartitionLog } from './partition-log.ts';
import { defaultSegmentIo } from './segment.ts';

const COMPACT = { compact: true, segmentBytes: 700, retentionMs: -1, deleteRetentionMs: 60_000, minCleanableDirtyRatio: 0.5 };

function assertMatchesModel(got: Awaited<ReturnType<typeof readAll>>, model: CleanerModel): void {
  assert.deepEqual(
    got.records.map((r) => [r.offset, r.key, r.value, r.timestamp, r.codec]),
    model.records.map((r) => [r.offset, r.key, r.value, r.timestamp, r.codec]),
  );
}

/** The end of the closed segments: what a full pass (min.compaction.lag.ms 0) cleans up to. */
function activeBase(log: PartitionLog): number {
  return log.segmentBaseOffsets.at(-1)!;
}

test('a pass keeps the latest record per key in closed segments, never touches the active one, and keeps offsets', async (t) => {
  const h = await harness(t);
  const log = await h.open(COMPACT);
  const model = new CleanerModel();
  for (let round = 0; round < 12; round++) {
    const rows = [0, 1, 2].map((k) => ({ key: `k${(round + k) % 5}`, value: `v${round}-${k}`.padEnd(40, ".") }));
    const ts = T0 + round * 10;
    model.append(await appendKeyed(log, rows, { timestamp: ts }), rows, 0, ts);
  }
  assert.ok(log.segmentCount > 3);
  const before = log.segmentCount;
  const stats = await log.clean();
  assert.ok(stats, 'the log is dirty enough (ratio 1 on the first pass)');
  assert.equal(stats.reason, 'dirty-ratio');
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  assertMatchesModel(await readAll(log), model);
  assert.ok(stats.recordsRemoved > 0);
  assert.equal(log.segmentCount, before, 'groups are formed from the sizes before cleaning');
  assert.equal(await log.clean(), null, 'nothing is dirty right after a pass');
  await log.clean({ force: true });
  assert.ok(log.segmentCount < before, `small cleaned segments merge on the next pass (${before} → ${log.segmentCount})`);
  assertMatchesModel(await readAll(log), model);

  await log.close();
  const reopened = await h.open(COMPACT);
  assertMatchesModel(await readAll(reopened), model);
  assert.equal(await reopened.clean(), null, 'the first dirty offset is checkpointed');
});

test('tombstones stay for delete.retention.ms after the first pass keeps them, then go', async (t) => {
  const h = await harness(t);
  const log = await h.open(COMPACT);
  const model = new CleanerModel();
  const put = async (rows: { key: string | null; value: string | null }[]) => {
    const ts = h.clock.now();
    model.append(await appendKeyed(log, rows, { timestamp: ts }), rows, 0, ts);
  };
  await put([{ key: 'a', value: 'a1' }, { key: 'b', value: 'b1' }, { key: 'c', value: 'c1' }]);
  await put([{ key: 'a', value: null }, { key: 'b', value: 'b2' }, { key: null, value: 'no key' }]);
  for (let i = 0; i < 8; i++) await put([{ key: `x${i}`, value: 'filler'.repeat(10) }]);
  await log.clean();
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  let got = await readAll(log);
  assertMatchesModel(got, model);
  assert.ok(got.records.some((r) => r.key === 'a' && r.value === null), 'the tombstone is kept on the first pass');
  assert.ok(!got.records.some((r) => r.key === null), 'records without a key are removed');

  h.clock.advance(COMPACT.deleteRetentionMs - 1);
  assert.equal(await log.clean(), null, 'the horizon has not passed');
  h.clock.advance(1);
  const stats = await log.clean();
  assert.equal(stats?.reason, 'delete-horizon');
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  got = await readAll(log);
  assertMatchesModel(got, model);
  assert.ok(!got.records.some((r) => r.key === 'a'), 'the tombstone is gone after delete.retention.ms');
});

test('min.compaction.lag.ms keeps young segments dirty; max.compaction.lag.ms forces a pass below the ratio', async (t) => {
  const h = await harness(t);
  const log = await h.open({ ...COMPACT, minCompactionLagMs: 1000, minCleanableDirtyRatio: 1, maxCompactionLagMs: 5000 });
  const model = new CleanerModel();
  for (let i = 0; i < 10; i++) {
    const rows = [{ key: 'k', value: `v${i}` }, { key: `u${i}`, value: 'x'.repeat(40) }];
    const ts = h.clock.now();
    model.append(await appendKeyed(log, rows, { timestamp: ts }), rows, 0, ts);
  }
  assert.equal(await log.clean({ force: true }), null, 'every segment is younger than min.compaction.lag.ms');
  h.clock.advance(1001);
  const first = await log.clean();
  assert.equal(first?.reason, 'dirty-ratio', 'ratio 1 on the first pass');
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  for (let i = 10; i < 14; i++) {
    const rows = [{ key: 'k', value: `v${i}` }, { key: `u${i}`, value: 'x'.repeat(40) }];
    const ts = h.clock.now();
    model.append(await appendKeyed(log, rows, { timestamp: ts }), rows, 0, ts);
  }
  h.clock.advance(1001);
  assert.equal(await log.clean(), null, 'dirty ratio below 1 and no lag yet');
  h.clock.advance(5000);
  const forced = await log.clean();
  assert.equal(forced?.reason, 'max-compaction-lag');
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  assertMatchesModel(await readAll(log), model);
});

test('a full disk while writing the cleaned segment leaves the log as it was; the next pass succeeds', async (t) => {
  const h = await harness(t);
  let failWrites = false;
  const io = {
    ...defaultSegmentIo,
    writev: (handle: Parameters<typeof defaultSegmentIo.writev>[0], buffers: Buffer[], position: number) =>
      failWrites ? Promise.reject(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })) : defaultSegmentIo.writev(handle, buffers, position),
  };
  const log = await h.open(COMPACT, { io });
  const model = new CleanerModel();
  for (let i = 0; i < 10; i++) {
    const rows = [{ key: `k${i % 3}`, value: `v${i}`.repeat(20) }];
    const ts = h.clock.now();
    model.append(await appendKeyed(log, rows, { timestamp: ts }), rows, 0, ts);
  }
  const before = await readAll(log);
  failWrites = true;
  await assert.rejects(log.clean(), /ENOSPC/);
  failWrites = false;
  assert.deepEqual(await readAll(log), before, 'nothing changed');
  assert.deepEqual((await fs.readdir(h.dir)).filter((f) => f.includes('.cleaned') || f.includes('.swap')), []);
  assert.ok(await log.clean());
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  assertMatchesModel(await readAll(log), model);
});

test('switching a topic from delete to compact and back keeps it readable and writable', async (t) => {
  const h = await harness(t);
  const log = await h.open({ ...COMPACT, compact: false });
  const model = new CleanerModel();
  const put = async (i: number, key: string | null) => {
    const rows = [{ key, value: `v${i}`.repeat(15) }];
    const ts = h.clock.now();
    model.append(await appendKeyed(log, rows, { timestamp: ts }), rows, 0, ts);
  };
  for (let i = 0; i < 8; i++) await put(i, i % 2 ? null : `k${i % 3}`);
  assert.equal(await log.clean({ force: true }), null, 'a delete-policy log is never cleaned');
  log.config = { ...log.config, compact: true };
  await log.clean();
  model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
  assertMatchesModel(await readAll(log), model);
  log.config = { ...log.config, compact: false, retentionMs: 1 };
  for (let i = 8; i < 12; i++) await put(i, null);
  h.clock.advance(10_000);
  await log.applyRetention();
  const got = await readAll(log);
  assert.ok(got.records.length > 0 && got.records.every((r, i, a) => i === 0 || r.offset > a[i - 1]!.offset));
  await assert.rejects(log.read(0, 1000), (e) => e instanceof KafkaError && e.code === ErrorCode.OFFSET_OUT_OF_RANGE);
});

const CODECS = [Compression.NONE, Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD];

test('property: random keyed streams with tombstones, every codec, several passes: reads agree with the model', async (t) => {
  const row = fc.record({
    key: fc.option(fc.integer({ min: 0, max: 7 }).map((k) => `key-${k}`), { freq: 12 }),
    value: fc.option(fc.string({ maxLength: 30 }), { freq: 5 }),
  });
  const op = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), rows: fc.array(row, { minLength: 1, maxLength: 6 }), codec: fc.constantFrom(...CODECS) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('clean' as const), advance: fc.integer({ min: 0, max: 90_000 }) }) },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const h = await harness(t);
      const log = await h.open({ ...COMPACT, segmentBytes: 400 });
      const model = new CleanerModel();
      for (const o of ops) {
        if (o.kind === 'append') {
          const ts = h.clock.now();
          model.append(await appendKeyed(log, o.rows, { codec: o.codec, timestamp: ts }), o.rows, o.codec, ts);
        } else {
          h.clock.advance(o.advance);
          await log.clean({ force: true });
          model.clean(activeBase(log), h.clock.now(), COMPACT.deleteRetentionMs);
        }
      }
      assertMatchesModel(await readAll(log), model);
      await log.close();
      const reopened = await h.open({ ...COMPACT, segmentBytes: 400 });
      assertMatchesModel(await readAll(reopened), model);
      await reopened.close();
    }),
    { numRuns: 40 },
  );
});
