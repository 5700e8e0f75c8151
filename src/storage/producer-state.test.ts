import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../common/errors.ts';
import { buildRecordBatch, decodeRecords } from '../protocol/records.ts';
import { ATTR_TRANSACTIONAL } from '../protocol/record-batch.ts';
import { buildTxnMarkerBatch } from '../protocol/control-batch.ts';
import { harness, T0 } from './test-util.ts';
import type { PartitionLog } from './partition-log.ts';
import { listSnapshots } from './producer-snapshot.ts';
import { ProducerState } from './producer-state.ts';
import type { SegmentIo } from './segment.ts';

const E = { leaderEpoch: 0 };

function pbatch(opts: { pid: number; epoch?: number; seq: number; count?: number; txn?: boolean; tag?: string }): Buffer {
  const count = opts.count ?? 1;
  return buildRecordBatch({
    baseTimestamp: T0,
    producerId: opts.pid,
    producerEpoch: opts.epoch ?? 0,
    baseSequence: opts.seq,
    attributes: opts.txn ? ATTR_TRANSACTIONAL : 0,
    records: Array.from({ length: count }, (_, i) => ({ key: null, value: Buffer.from(`${opts.tag ?? 'v'}-${opts.seq + i}`) })),
  });
}

function marker(pid: number, committed: boolean, epoch = 0): Buffer {
  return buildTxnMarkerBatch({ producerId: pid, producerEpoch: epoch, coordinatorEpoch: 0, committed, timestamp: T0 });
}

async function rejects(p: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof KafkaError && err.code === code);
}

async function values(log: PartitionLog, maxOffset = log.highWatermark): Promise<string[]> {
  const got = await log.read(log.logStartOffset, 1 << 20, { maxOffset });
  return decodeRecords(Buffer.concat(got.records)).map((r) => r.value?.toString() ?? 'null');
}

test('idempotent appends: in-sequence batches are appended, a duplicate of one of the last five gets the original offsets', async (t) => {
  const h = await harness(t);
  const log = await h.open();
  const offsets: number[] = [];
  for (let seq = 0; seq < 10; seq += 2) offsets.push((await log.append(pbatch({ pid: 7, seq, count: 2 }), E)).baseOffset);
  assert.deepEqual(offsets, [0, 2, 4, 6, 8]);
  const dup = await log.append(pbatch({ pid: 7, seq: 2, count: 2 }), E);
  assert.equal(dup.baseOffset, 2);
  assert.equal(dup.lastOffset, 3);
  assert.equal(dup.duplicate, true);
  assert.equal(log.logEndOffset, 10, 'the duplicate was not appended');
  // Only five batches are remembered: the sixth-newest is out of order, not a duplicate.
  await log.append(pbatch({ pid: 7, seq: 10 }), E);
  await rejects(log.append(pbatch({ pid: 7, seq: 0, count: 2 }), E), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
});

test('sequence and epoch checks answer with Kafka errors', async (t) => {
  const h = await harness(t);
  const log = await h.open();
  // An unknown producer may start at any sequence (Kafka: its state may have expired or been deleted).
  await log.append(pbatch({ pid: 1, seq: 5 }), E);
  await rejects(log.append(pbatch({ pid: 1, seq: 7 }), E), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  await log.append(pbatch({ pid: 1, seq: 6 }), E);
  // A new epoch must start at sequence 0.
  await rejects(log.append(pbatch({ pid: 1, epoch: 1, seq: 3 }), E), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  await log.append(pbatch({ pid: 1, epoch: 1, seq: 0 }), E);
  // The old epoch is fenced.
  await rejects(log.append(pbatch({ pid: 1, epoch: 0, seq: 7 }), E), ErrorCode.INVALID_PRODUCER_EPOCH);
  // Sequences wrap from Int32.MAX to 0.
  await log.append(pbatch({ pid: 2, seq: 0x7fff_fffe, count: 2 }), E);
  await log.append(pbatch({ pid: 2, seq: 0 }), E);
  assert.equal(log.logEndOffset, 6);
  // Coordinator appends (offset commits) carry no sequence: only the epoch is checked.
  await log.append(pbatch({ pid: 1, epoch: 1, seq: -1, txn: true }), { ...E, origin: 'coordinator' });
  await rejects(log.append(pbatch({ pid: 1, epoch: 0, seq: -1, txn: true }), { ...E, origin: 'coordinator' }), ErrorCode.INVALID_PRODUCER_EPOCH);
});

test('transactions: the last stable offset stops at an open transaction; aborted ones are listed', async (t) => {
  const h = await harness(t);
  const log = await h.open();
  await log.append(pbatch({ pid: 9, seq: 0, tag: 'plain' }), E); // 0
  await log.append(pbatch({ pid: 1, seq: 0, count: 2, txn: true, tag: 'a' }), E); // 1-2
  await log.append(pbatch({ pid: 2, seq: 0, txn: true, tag: 'b' }), E); // 3
  await log.sync();
  assert.equal(log.highWatermark, 4);
  assert.equal(log.lastStableOffset, 1);
  assert.deepEqual(await values(log, log.lastStableOffset), ['plain-0']);
  // A non-transactional write while the producer's transaction is open is refused.
  await rejects(log.append(pbatch({ pid: 1, seq: 2 }), E), ErrorCode.INVALID_TXN_STATE);
  await log.append(marker(1, false), { ...E, origin: 'coordinator' }); // 4: abort a
  await log.sync();
  assert.equal(log.lastStableOffset, 3, 'b is still open');
  await log.append(marker(2, true), { ...E, origin: 'coordinator' }); // 5: commit b
  await log.sync();
  assert.equal(log.lastStableOffset, 6);
  assert.deepEqual(log.abortedTransactions(0, 6), [{ producerId: 1, firstOffset: 1, lastOffset: 4, lastStableOffset: 3 }]);
  assert.deepEqual(log.abortedTransactions(5, 6), [], 'ends before the range');
  assert.deepEqual(log.abortedTransactions(0, 1), [], 'starts after the range');
  // A marker from an older epoch is refused; the producer goes on in its next transaction.
  await rejects(log.append(marker(2, true, -1), { ...E, origin: 'coordinator' }), ErrorCode.INVALID_PRODUCER_EPOCH);
  await log.append(pbatch({ pid: 1, seq: 2, txn: true, tag: 'a2' }), E);
  assert.equal(log.hasOngoingTransaction(1), true);
  assert.deepEqual(
    log.activeProducers.map((p) => [p.producerId, p.currentTxnFirstOffset]).sort(),
    [[1, 6], [2, -1], [9, -1]],
  );
});

test('producer state survives a clean restart and a crash (snapshot plus replay of the log after it)', async (t) => {
  const h = await harness(t);
  let log = await h.open({ segmentBytes: 300 });
  for (let seq = 0; seq < 12; seq++) await log.append(pbatch({ pid: 3, seq, tag: 'x'.repeat(40) }), E);
  await log.append(pbatch({ pid: 4, seq: 0, txn: true }), E);
  await log.append(marker(4, false), { ...E, origin: 'coordinator' });
  await log.append(pbatch({ pid: 5, seq: 0, txn: true }), E);
  await log.sync();
  assert.ok(log.segmentCount > 2, 'several rolls, so several snapshots were written');
  assert.ok((await listSnapshots(h.dir)).length > 0);
  const end = log.logEndOffset;
  const check = async (l: PartitionLog) => {
    assert.equal(l.logEndOffset, end);
    const dup = await l.append(pbatch({ pid: 3, seq: 11, tag: 'x'.repeat(40) }), E);
    assert.equal(dup.duplicate, true);
    assert.equal(dup.baseOffset, 11);
    await rejects(l.append(pbatch({ pid: 3, seq: 13 }), E), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert.equal(l.lastStableOffset, end - 1, 'pid 5 still has its transaction open');
    assert.deepEqual(l.abortedTransactions(0, end).map((a) => [a.producerId, a.firstOffset, a.lastOffset]), [[4, 12, 13]]);
  };
  // Crash: a copy of the directory as it is on disk now (synced), opened without closing the first.
  const crashed = path.join(h.root, 't-1');
  await fs.cp(h.dir, crashed, { recursive: true });
  const other = await h.open({ segmentBytes: 300 }, { dir: crashed, partition: 1 });
  await check(other);
  await log.close();
  log = await h.open({ segmentBytes: 300 });
  await check(log);
  // Without any snapshot, the whole log is replayed.
  await log.close();
  for (const o of await listSnapshots(h.dir)) await fs.rm(path.join(h.dir, `${String(o).padStart(20, '0')}.snapshot`));
  log = await h.open({ segmentBytes: 300 });
  await check(log);
});

test('a corrupt snapshot is skipped and the state is rebuilt from the log', async (t) => {
  const h = await harness(t);
  let log = await h.open();
  for (let seq = 0; seq < 3; seq++) await log.append(pbatch({ pid: 8, seq }), E);
  await log.close();
  const [snap] = await listSnapshots(h.dir);
  const file = path.join(h.dir, `${String(snap).padStart(20, '0')}.snapshot`);
  const bytes = await fs.readFile(file);
  bytes[bytes.length - 1] ^= 0xff;
  await fs.writeFile(file, bytes);
  log = await h.open();
  assert.equal((await log.append(pbatch({ pid: 8, seq: 2 }), E)).duplicate, true);
});

test('a failed write rolls the producer state back with the log', async (t) => {
  const h = await harness(t);
  let fail = false;
  const io: SegmentIo = {
    async writev(handle, buffers, position) {
      if (fail) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return (await handle.writev(buffers, position)).bytesWritten;
    },
    truncate: (handle, length) => handle.truncate(length),
  };
  const log = await h.open({}, { io });
  await log.append(pbatch({ pid: 6, seq: 0 }), E);
  fail = true;
  await rejects(log.append(pbatch({ pid: 6, seq: 1 }), E), ErrorCode.KAFKA_STORAGE_ERROR);
  fail = false;
  // While the state is rebuilt, producer appends are refused retriably; then the retry of seq 1 succeeds.
  let result;
  for (let i = 0; i < 100; i++) {
    try {
      result = await log.append(pbatch({ pid: 6, seq: 1 }), E);
      break;
    } catch (err) {
      assert.equal((err as KafkaError).code, ErrorCode.KAFKA_STORAGE_ERROR);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  assert.equal(result?.baseOffset, 1);
  assert.equal(result?.duplicate, undefined);
});

test('ProducerState: serialize/deserialize round trip and expiry', () => {
  const s = new ProducerState('t-0');
  s.apply({ producerId: 1, producerEpoch: 2, baseSequence: 0, lastSequence: 4, isTransactional: true, maxTimestamp: 100 }, 0, 4);
  s.apply({ producerId: 2, producerEpoch: 0, baseSequence: 0, lastSequence: 0, isTransactional: true, maxTimestamp: 50 }, 5, 5);
  s.apply({ producerId: 2, producerEpoch: 0, baseSequence: -1, lastSequence: -1, isTransactional: true, marker: { committed: false, coordinatorEpoch: 3 }, maxTimestamp: 60 }, 6, 6);
  const copy = ProducerState.deserialize('t-0', s.serialize());
  assert.deepEqual([...copy.producers.entries()], [...s.producers.entries()]);
  assert.deepEqual(copy.aborted, s.aborted);
  assert.equal(copy.firstUnstableOffset(7), 0);
  assert.equal(s.expire(60 + 1000, 1000), 1, 'pid 2 is idle; pid 1 has an open transaction');
  assert.deepEqual([...s.producers.keys()], [1]);
});

test('producer.id.expiration.ms: an idle producer is forgotten, so its old sequence starts a new history', async (t) => {
  const h = await harness(t);
  const log = await h.open();
  await log.append(pbatch({ pid: 11, seq: 0 }), E);
  log.expireProducers(T0 + 999, 1000);
  assert.equal(log.activeProducers.length, 1, 'not idle long enough');
  log.expireProducers(T0 + 1000, 1000);
  assert.equal(log.activeProducers.length, 0);
  // Without state the retry is not recognised as a duplicate (Kafka behaves the same).
  assert.equal((await log.append(pbatch({ pid: 11, seq: 0 }), E)).duplicate, undefined);
});

test('after a failed write, producer appends are refused until the state is rebuilt, and the LSO holds still', { timeout: 20_000 }, async (t) => {
  const h = await harness(t);
  let fail = false;
  let releaseTruncate!: () => void;
  let truncating = false;
  const truncateGate = new Promise<void>((r) => (releaseTruncate = r));
  const io: SegmentIo = {
    async writev(handle, buffers, position) {
      if (fail) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      return (await handle.writev(buffers, position)).bytesWritten;
    },
    async truncate(handle, length) {
      truncating = true;
      await truncateGate;
      await handle.truncate(length);
    },
  };
  const log = await h.open({}, { io });
  await log.append(pbatch({ pid: 5, seq: 0, txn: true }), E); // 0: pid 5 opens a transaction
  await log.sync();
  assert.equal(log.lastStableOffset, 0);
  fail = true;
  const failing = log.append(pbatch({ pid: 5, seq: 1, txn: true }), E);
  const failingMarker = log.append(marker(5, false), { ...E, origin: 'coordinator' });
  while (!truncating) await new Promise((r) => setImmediate(r));
  fail = false;
  // The truncate is still in progress: a transactional batch and a marker must not get in now.
  await rejects(log.append(pbatch({ pid: 5, seq: 1, txn: true }), E), ErrorCode.KAFKA_STORAGE_ERROR);
  await rejects(log.append(marker(5, true), { ...E, origin: 'coordinator' }), ErrorCode.KAFKA_STORAGE_ERROR);
  // Plain appends are taken (written once the truncate is done); the last stable offset holds.
  const plain = log.append(pbatch({ pid: -1, seq: -1 }), E);
  assert.equal(log.lastStableOffset, 0);
  releaseTruncate();
  await rejects(failing, ErrorCode.KAFKA_STORAGE_ERROR);
  await rejects(failingMarker, ErrorCode.KAFKA_STORAGE_ERROR);
  await plain;
  assert.equal(log.lastStableOffset, 0);
  for (let i = 0; i < 200 && !(await log.append(marker(5, false), { ...E, origin: 'coordinator' }).then(() => true, () => false)); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  await log.sync();
  assert.equal(log.lastStableOffset, log.highWatermark);
  assert.deepEqual(log.abortedTransactions(0, log.highWatermark).map((a) => [a.producerId, a.firstOffset]), [[5, 0]]);
});
