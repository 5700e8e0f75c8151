import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { batchBaseOffset } from '../protocol/record-batch.ts';
import { batch, filesWith, harness } from './test-util.ts';

function isKafkaError(code: number) {
  return (err: unknown) => err instanceof KafkaError && err.code === code;
}

test('DeleteRecords moves the log start offset inside a segment, deletes segments below it, and survives a restart', async (t) => {
  const h = await harness(t);
  const log = await h.open({ segmentBytes: 1024 });
  for (let i = 0; i < 6; i++) await log.append(batch(10, { valueSize: 40 }), { leaderEpoch: 0 });
  const bases = log.segmentBaseOffsets;
  assert.ok(bases.length >= 3, `expected several segments, got ${bases.join(',')}`);
  const target = bases[2]! + 3; // inside the third segment

  assert.equal(await log.deleteRecords(target), target);
  assert.equal(log.logStartOffset, target);
  assert.deepEqual(log.segmentBaseOffsets, bases.slice(2), 'segments wholly below the start are deleted');
  assert.deepEqual(await filesWith(h.dir, '.log'), bases.slice(2).map((b) => `${String(b).padStart(20, '0')}.log`));
  await assert.rejects(log.read(target - 1, 1 << 20), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
  const got = await log.read(target, 1 << 20);
  assert.equal(batchBaseOffset(got.records[0]!), bases[2], 'the read starts with the batch holding the start offset');

  assert.equal(await log.deleteRecords(target - 2), target, 'an earlier offset changes nothing');
  await assert.rejects(log.deleteRecords(log.highWatermark + 1), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
  await assert.rejects(log.deleteRecords(-2), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));

  await log.close();
  const reopened = await h.open({ segmentBytes: 1024 });
  assert.equal(reopened.logStartOffset, target, 'the start offset is persisted');
  await assert.rejects(reopened.read(target - 1, 1 << 20), isKafkaError(ErrorCode.OFFSET_OUT_OF_RANGE));
  assert.equal(await reopened.deleteRecords(-1), reopened.highWatermark, '-1 means the high watermark');
  assert.equal(reopened.segmentBaseOffsets.length, 1, 'only the active segment is left');
  assert.deepEqual((await reopened.read(reopened.highWatermark, 1 << 20)).records, []);
});

test('a lost or garbled log start checkpoint falls back to the first segment', async (t) => {
  const h = await harness(t);
  const log = await h.open();
  await log.append(batch(10), { leaderEpoch: 0 });
  await log.deleteRecords(4);
  await log.close();
  await fs.writeFile(path.join(h.dir, 'log-start-offset'), 'garbage');
  const reopened = await h.open();
  assert.equal(reopened.logStartOffset, 0);
});

test('retention keeps the log start offset when it is past the deleted segments', async (t) => {
  const h = await harness(t);
  const log = await h.open({ segmentBytes: 1024, retentionBytes: 1500 });
  for (let i = 0; i < 6; i++) await log.append(batch(10, { valueSize: 40 }), { leaderEpoch: 0 });
  const last = log.segmentBaseOffsets.at(-1)!;
  await log.deleteRecords(last + 1);
  await log.applyRetention();
  assert.equal(log.logStartOffset, last + 1);
});
