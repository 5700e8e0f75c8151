/**
 * The transaction coordinator's state machine: every transition Kafka allows and the refused
 * ones with their error codes, fencing, retries after lost responses, append failures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode as E } from '../../common/errors.ts';
import { partitionFor } from '../group/partition-for.ts';
import { Harness } from './test-helpers.ts';

const tp = (topic: string, partition: number) => ({ topic, partition });

describe('InitProducerId', () => {
  test('no transactional id: a fresh producer id with epoch 0, nothing stored', () => {
    const h = new Harness();
    const r1 = h.c.initProducerId(null, 0);
    assert.equal(r1.records.length, 0);
    assert.deepEqual(r1.complete(null), { errorCode: E.NONE, producerId: 1000, producerEpoch: 0 });
    assert.deepEqual(h.ok(h.c.initProducerId(null, 0)), { errorCode: E.NONE, producerId: 1001, producerEpoch: 0 });
    assert.deepEqual(h.c.transactionalIds(), []);
  });

  test("'' → INVALID_REQUEST; timeouts <= 0 or above transaction.max.timeout.ms → INVALID_TRANSACTION_TIMEOUT", () => {
    const h = new Harness({ config: { maxTimeoutMs: 60_000 } });
    assert.equal(h.ok(h.c.initProducerId('', 1000)).errorCode, E.INVALID_REQUEST);
    for (const t of [0, -1, 60_001]) {
      assert.deepEqual(h.ok(h.c.initProducerId('t', t)), { errorCode: E.INVALID_TRANSACTION_TIMEOUT, producerId: -1, producerEpoch: -1 });
    }
    assert.deepEqual(h.c.transactionalIds(), []);
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.NONE);
  });

  test('new id → new producer id, epoch 0, an Empty record; Empty → Empty bumps the epoch', () => {
    const h = new Harness();
    const r = h.c.initProducerId('t', 30_000);
    assert.equal(r.records.length, 1);
    assert.equal(r.records[0]!.value!.state, 'Empty');
    assert.deepEqual(h.ok(r), { errorCode: E.NONE, producerId: 1000, producerEpoch: 0 });
    assert.equal(h.c.state('t'), 'Empty');
    assert.deepEqual(h.ok(h.c.initProducerId('t', 45_000)), { errorCode: E.NONE, producerId: 1000, producerEpoch: 1 });
    assert.equal(h.c.describe('t').transactionTimeoutMs, 45_000, 'the new timeout is kept');
  });

  test('CompleteCommit → Empty and CompleteAbort → Empty bump the epoch', () => {
    for (const commit of [true, false]) {
      const h = new Harness();
      const p = h.init('t');
      h.ok(h.c.addPartitions('t', p.producerId, p.producerEpoch, [tp('a', 0)]));
      h.ok(h.c.endTxn('t', p.producerId, p.producerEpoch, commit));
      h.completeMarkers();
      assert.equal(h.c.state('t'), commit ? 'CompleteCommit' : 'CompleteAbort');
      assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000)), { errorCode: E.NONE, producerId: p.producerId, producerEpoch: 1 });
      assert.equal(h.c.state('t'), 'Empty');
      assert.deepEqual(h.c.describe('t').topics, []);
    }
  });

  test('PrepareCommit / PrepareAbort and pending transitions → CONCURRENT_TRANSACTIONS', () => {
    for (const commit of [true, false]) {
      const h = new Harness();
      const p = h.init('t');
      h.ok(h.c.addPartitions('t', p.producerId, p.producerEpoch, [tp('a', 0)]));
      h.ok(h.c.endTxn('t', p.producerId, p.producerEpoch, commit));
      assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS);
    }
    const h = new Harness();
    h.init('t');
    const inFlight = h.c.initProducerId('t', 60_000); // not yet durable
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS);
    assert.equal(h.ok(inFlight).producerEpoch, 1);
  });

  test('Ongoing → fence: the epoch is bumped and the transaction aborted; CONCURRENT_TRANSACTIONS, then the retry succeeds', () => {
    const h = new Harness();
    const p = h.init('t');
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0), tp('b', 1)]));
    const fence = h.c.initProducerId('t', 60_000);
    assert.deepEqual(
      fence.records.map((r) => [r.value!.state, r.value!.producerEpoch]),
      [['PrepareAbort', 1]],
    );
    assert.deepEqual(h.ok(fence), { errorCode: E.CONCURRENT_TRANSACTIONS, producerId: -1, producerEpoch: -1 });
    assert.equal(h.c.state('t'), 'PrepareAbort');
    assert.deepEqual(h.markers, [
      { transactionalId: 't', producerId: p.producerId, producerEpoch: 1, committed: false, partitions: [tp('a', 0), tp('b', 1)] },
    ]);
    // The zombie (epoch 0) is fenced on every operation.
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('c', 0)])), E.PRODUCER_FENCED);
    assert.equal(h.ok(h.c.addOffsets('t', p.producerId, 0, 'g')), E.PRODUCER_FENCED);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, true)).errorCode, E.PRODUCER_FENCED);
    // Still aborting: the new producer retries.
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS);
    assert.deepEqual(h.completeMarkers(), [true]);
    assert.equal(h.c.state('t'), 'CompleteAbort');
    assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000)), { errorCode: E.NONE, producerId: p.producerId, producerEpoch: 2 });
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 1, false)).errorCode, E.PRODUCER_FENCED);
  });

  test('an exhausted epoch rotates to a new producer id with epoch 0', () => {
    const h = new Harness();
    h.c.replay({
      transactionalId: 't',
      value: {
        producerId: 7, previousProducerId: -1, nextProducerId: -1, producerEpoch: 32766, transactionTimeoutMs: 60_000,
        state: 'CompleteCommit', partitions: [], lastUpdateTimestampMs: 1, startTimestampMs: 1, clientTransactionVersion: 0,
      },
    });
    assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000)), { errorCode: E.NONE, producerId: 1000, producerEpoch: 0 });
    assert.equal(h.c.snapshot()[0]!.previousProducerId, 7);
  });

  test('fencing at epoch 32766 uses the last epoch; the retry then rotates the producer id', () => {
    const h = new Harness();
    h.c.replay({
      transactionalId: 't',
      value: {
        producerId: 7, previousProducerId: -1, nextProducerId: -1, producerEpoch: 32766, transactionTimeoutMs: 60_000,
        state: 'Ongoing', partitions: [{ topic: 'a', partitionIds: [0] }], lastUpdateTimestampMs: 1, startTimestampMs: 1, clientTransactionVersion: 0,
      },
    });
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS);
    assert.equal(h.markers[0]!.producerEpoch, 32767);
    h.completeMarkers();
    assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000)), { errorCode: E.NONE, producerId: 1000, producerEpoch: 0 });
  });
});

describe('InitProducerId with a producer id and epoch (KIP-360)', () => {
  test('the current epoch bumps; a retry of that bump (lost response) gets the same epoch', () => {
    const h = new Harness();
    const p = h.init('t');
    const first = h.ok(h.c.initProducerId('t', 60_000, { producerId: p.producerId, producerEpoch: 0 }));
    assert.deepEqual(first, { errorCode: E.NONE, producerId: p.producerId, producerEpoch: 1 });
    const retry = h.ok(h.c.initProducerId('t', 60_000, { producerId: p.producerId, producerEpoch: 0 }));
    assert.deepEqual(retry, first);
    assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000, { producerId: p.producerId, producerEpoch: 1 })).producerEpoch, 2);
  });

  test('another producer id or a stale epoch → PRODUCER_FENCED', () => {
    const h = new Harness();
    const p = h.init('t');
    h.ok(h.c.initProducerId('t', 60_000));
    h.ok(h.c.initProducerId('t', 60_000)); // epoch 2, last epoch -1
    assert.equal(h.ok(h.c.initProducerId('t', 60_000, { producerId: p.producerId + 5, producerEpoch: 2 })).errorCode, E.PRODUCER_FENCED);
    assert.equal(h.ok(h.c.initProducerId('t', 60_000, { producerId: p.producerId, producerEpoch: 0 })).errorCode, E.PRODUCER_FENCED);
    assert.equal(h.ok(h.c.initProducerId('t', 60_000, { producerId: p.producerId, producerEpoch: 2 })).producerEpoch, 3);
  });

  test('a new transactional id accepts any producer id and epoch (recovering producer)', () => {
    const h = new Harness();
    assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000, { producerId: 42, producerEpoch: 3 })), {
      errorCode: E.NONE,
      producerId: 1000,
      producerEpoch: 0,
    });
  });

  test('a retry after a producer id rotation (previous id, exhausted epoch) gets the same answer', () => {
    const h = new Harness();
    h.c.replay({
      transactionalId: 't',
      value: {
        producerId: 7, previousProducerId: -1, nextProducerId: -1, producerEpoch: 32766, transactionTimeoutMs: 60_000,
        state: 'Empty', partitions: [], lastUpdateTimestampMs: 1, startTimestampMs: -1, clientTransactionVersion: 0,
      },
    });
    const first = h.ok(h.c.initProducerId('t', 60_000, { producerId: 7, producerEpoch: 32766 }));
    assert.deepEqual(first, { errorCode: E.NONE, producerId: 1000, producerEpoch: 0 });
    assert.deepEqual(h.ok(h.c.initProducerId('t', 60_000, { producerId: 7, producerEpoch: 32766 })), first);
  });
});

describe('AddPartitionsToTxn / AddOffsetsToTxn', () => {
  test('Empty → Ongoing (start time set), Ongoing → Ongoing with more partitions, known partitions → NONE without a record', () => {
    const h = new Harness();
    const p = h.init('t');
    const t0 = h.clock.now();
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)])), E.NONE);
    assert.equal(h.c.state('t'), 'Ongoing');
    assert.equal(h.c.describe('t').transactionStartTimeMs, t0);
    h.clock.advance(100);
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 1), tp('b', 0)])), E.NONE);
    assert.equal(h.c.describe('t').transactionStartTimeMs, t0, 'the start time stays');
    assert.deepEqual(h.c.describe('t').topics, [{ topic: 'a', partitions: [0, 1] }, { topic: 'b', partitions: [0] }]);
    const known = h.c.addPartitions('t', p.producerId, 0, [tp('a', 1)]);
    assert.equal(known.records.length, 0);
    assert.equal(known.complete(null), E.NONE);
  });

  test('CompleteCommit / CompleteAbort → Ongoing: a new transaction with a new start time', () => {
    for (const commit of [true, false]) {
      const h = new Harness();
      const p = h.init('t');
      h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
      h.ok(h.c.endTxn('t', p.producerId, 0, commit));
      h.completeMarkers();
      h.clock.advance(5000);
      assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('b', 0)])), E.NONE);
      assert.equal(h.c.state('t'), 'Ongoing');
      assert.equal(h.c.describe('t').transactionStartTimeMs, h.clock.now());
      assert.deepEqual(h.c.describe('t').topics, [{ topic: 'b', partitions: [0] }]);
    }
  });

  test('errors: unknown id / other producer id → INVALID_PRODUCER_ID_MAPPING, other epoch → PRODUCER_FENCED, pending or Prepare* → CONCURRENT_TRANSACTIONS', () => {
    const h = new Harness();
    const p = h.init('t');
    assert.equal(h.ok(h.c.addPartitions('nope', p.producerId, 0, [tp('a', 0)])), E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId + 1, 0, [tp('a', 0)])), E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 1, [tp('a', 0)])), E.PRODUCER_FENCED);
    assert.equal(h.ok(h.c.addPartitions('', p.producerId, 0, [tp('a', 0)])), E.INVALID_REQUEST);
    const inFlight = h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]);
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('b', 0)])), E.CONCURRENT_TRANSACTIONS);
    assert.equal(h.ok(h.c.addOffsets('t', p.producerId, 0, 'g')), E.CONCURRENT_TRANSACTIONS);
    h.ok(inFlight);
    h.ok(h.c.endTxn('t', p.producerId, 0, true));
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('b', 0)])), E.CONCURRENT_TRANSACTIONS, 'PrepareCommit');
    assert.equal(h.ok(h.c.addOffsets('t', p.producerId, 0, 'g')), E.CONCURRENT_TRANSACTIONS);
  });

  test("AddOffsetsToTxn adds the group's __consumer_offsets partition", () => {
    const h = new Harness();
    const p = h.init('t');
    assert.equal(h.ok(h.c.addOffsets('t', p.producerId, 0, 'my-group')), E.NONE);
    assert.deepEqual(h.c.describe('t').topics, [{ topic: '__consumer_offsets', partitions: [partitionFor('my-group', 50)] }]);
    assert.equal(h.ok(h.c.addOffsets('nope', p.producerId, 0, 'g')), E.INVALID_PRODUCER_ID_MAPPING);
  });

  test('a failed append changes nothing and answers the coordinator error', () => {
    const h = new Harness();
    const p = h.init('t');
    assert.equal(h.fail(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]), E.NOT_LEADER_OR_FOLLOWER), E.NOT_COORDINATOR);
    assert.equal(h.c.state('t'), 'Empty');
    assert.equal(h.fail(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]), E.REQUEST_TIMED_OUT), E.COORDINATOR_NOT_AVAILABLE);
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)])), E.NONE);
  });
});

describe('EndTxn', () => {
  test('Ongoing → PrepareCommit → (markers) → CompleteCommit; the answer comes when PrepareCommit is durable', () => {
    const h = new Harness();
    const p = h.init('t');
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
    const end = h.c.endTxn('t', p.producerId, 0, true);
    assert.deepEqual(end.records.map((r) => r.value!.state), ['PrepareCommit']);
    assert.equal(h.markers.length, 0, 'no marker before the record is durable');
    assert.equal(h.c.state('t'), 'Ongoing');
    assert.deepEqual(h.ok(end), { errorCode: E.NONE, producerId: p.producerId, producerEpoch: 0 });
    assert.equal(h.c.state('t'), 'PrepareCommit');
    assert.deepEqual(h.markers, [{ transactionalId: 't', producerId: p.producerId, producerEpoch: 0, committed: true, partitions: [tp('a', 0)] }]);
    const complete = h.c.completeTransaction('t', p.producerId, 0);
    assert.deepEqual(complete.records.map((r) => [r.value!.state, r.value!.partitions]), [['CompleteCommit', []]]);
    assert.equal(h.ok(complete), true);
    assert.equal(h.c.state('t'), 'CompleteCommit');
  });

  test('Ongoing → PrepareAbort → CompleteAbort', () => {
    const h = new Harness();
    const p = h.init('t');
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, false)).errorCode, E.NONE);
    assert.equal(h.c.state('t'), 'PrepareAbort');
    assert.equal(h.markers[0]!.committed, false);
    h.completeMarkers();
    assert.equal(h.c.state('t'), 'CompleteAbort');
  });

  test('retries: while the markers are written → CONCURRENT_TRANSACTIONS; then the same outcome → NONE, the other → INVALID_TXN_STATE', () => {
    for (const commit of [true, false]) {
      const h = new Harness();
      const p = h.init('t');
      h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
      h.ok(h.c.endTxn('t', p.producerId, 0, commit));
      // Kafka prepares the Complete transition as soon as Prepare* is durable: it is pending.
      assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, commit)).errorCode, E.CONCURRENT_TRANSACTIONS);
      assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, !commit)).errorCode, E.CONCURRENT_TRANSACTIONS);
      h.completeMarkers();
      assert.deepEqual(h.ok(h.c.endTxn('t', p.producerId, 0, commit)), { errorCode: E.NONE, producerId: p.producerId, producerEpoch: 0 });
      assert.deepEqual(h.ok(h.c.endTxn('t', p.producerId, 0, !commit)), { errorCode: E.INVALID_TXN_STATE, producerId: -1, producerEpoch: -1 });
    }
  });

  test('errors: Empty → INVALID_TXN_STATE, unknown id or producer → INVALID_PRODUCER_ID_MAPPING, other epoch → PRODUCER_FENCED, pending → CONCURRENT_TRANSACTIONS', () => {
    const h = new Harness();
    const p = h.init('t');
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, true)).errorCode, E.INVALID_TXN_STATE);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, false)).errorCode, E.INVALID_TXN_STATE);
    assert.equal(h.ok(h.c.endTxn('nope', p.producerId, 0, true)).errorCode, E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId + 1, 0, true)).errorCode, E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 1, true)).errorCode, E.PRODUCER_FENCED, 'a higher epoch from a client');
    assert.equal(h.ok(h.c.endTxn('', p.producerId, 0, true)).errorCode, E.INVALID_REQUEST);
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
    const inFlight = h.c.endTxn('t', p.producerId, 0, true);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, true)).errorCode, E.CONCURRENT_TRANSACTIONS);
    h.ok(inFlight);
    // Completing (pending CompleteCommit) is a pending transition too.
    const [w] = h.markers.splice(0);
    const completing = h.c.completeTransaction('t', w!.producerId, w!.producerEpoch);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, true)).errorCode, E.CONCURRENT_TRANSACTIONS);
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS);
    h.ok(completing);
  });

  test('a failed PrepareCommit append leaves the transaction Ongoing (the client can retry); a failed Complete append is retried', () => {
    const h = new Harness();
    const p = h.init('t');
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
    assert.deepEqual(h.fail(h.c.endTxn('t', p.producerId, 0, true), E.NOT_LEADER_OR_FOLLOWER), {
      errorCode: E.NOT_COORDINATOR,
      producerId: -1,
      producerEpoch: -1,
    });
    assert.equal(h.c.state('t'), 'Ongoing');
    assert.equal(h.markers.length, 0);
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, true)).errorCode, E.NONE);
    const [w] = h.markers.splice(0);
    assert.equal(h.fail(h.c.completeTransaction('t', w!.producerId, w!.producerEpoch), E.KAFKA_STORAGE_ERROR), false);
    assert.equal(h.c.state('t'), 'PrepareCommit');
    assert.equal(h.ok(h.c.completeTransaction('t', w!.producerId, w!.producerEpoch)), true);
    assert.equal(h.c.state('t'), 'CompleteCommit');
    // A stale completion does nothing.
    const stale = h.c.completeTransaction('t', w!.producerId, w!.producerEpoch);
    assert.equal(stale.records.length, 0);
    assert.equal(stale.complete(null), true);
  });
});

describe('timeouts and expiry', () => {
  test('an Ongoing transaction older than its timeout is aborted with an epoch bump (the zombie is fenced)', () => {
    const h = new Harness({ config: { abortTimedOutIntervalMs: 1000 } });
    h.c.onLoaded();
    const p = h.init('t', 5000);
    const q = h.init('u', 60_000);
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
    h.ok(h.c.addPartitions('u', q.producerId, 0, [tp('a', 1)]));
    h.clock.advance(5000);
    assert.equal(h.timerResults.length, 0, 'not older than the timeout yet');
    h.clock.advance(1000);
    assert.equal(h.timerResults.length, 1);
    assert.deepEqual(h.timerResults[0]!.records.map((r) => [r.transactionalId, r.value!.state, r.value!.producerEpoch]), [['t', 'PrepareAbort', 1]]);
    h.flushTimers();
    assert.equal(h.c.state('t'), 'PrepareAbort');
    assert.equal(h.c.state('u'), 'Ongoing');
    assert.deepEqual(h.markers, [{ transactionalId: 't', producerId: p.producerId, producerEpoch: 1, committed: false, partitions: [tp('a', 0)] }]);
    h.completeMarkers();
    assert.equal(h.c.state('t'), 'CompleteAbort');
    assert.equal(h.ok(h.c.endTxn('t', p.producerId, 0, true)).errorCode, E.PRODUCER_FENCED);
    assert.equal(h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)])), E.PRODUCER_FENCED);
    assert.equal(h.c.verifyPartition('t', p.producerId, 0, 'a', 0), E.PRODUCER_FENCED);
    h.c.stop();
  });

  test('a failed fence is not bumped twice', () => {
    const h = new Harness({ config: { abortTimedOutIntervalMs: 1000 } });
    h.c.onLoaded();
    const p = h.init('t', 1000);
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]));
    h.clock.advance(2000);
    assert.equal(h.timerResults.length, 1);
    h.fail(h.timerResults.shift()!, E.NOT_LEADER_OR_FOLLOWER);
    assert.equal(h.c.state('t'), 'Ongoing');
    h.clock.advance(1000);
    assert.deepEqual(h.timerResults[0]!.records.map((r) => r.value!.producerEpoch), [1]);
    h.flushTimers();
    assert.equal(h.c.state('t'), 'PrepareAbort');
    h.c.stop();
  });

  test('idle ids expire after transactional.id.expiration.ms (tombstone); unfinished and recently used ones stay', () => {
    const day = 24 * 3600_000;
    const h = new Harness({ config: { idExpirationMs: 7 * day, removeExpiredIntervalMs: 3600_000, abortTimedOutIntervalMs: 3600_000 } });
    h.c.onLoaded();
    h.init('empty');
    const c = h.init('done');
    h.ok(h.c.addPartitions('done', c.producerId, 0, [tp('a', 0)]));
    h.ok(h.c.endTxn('done', c.producerId, 0, true));
    h.completeMarkers();
    const o = h.init('ongoing', 900_000);
    h.ok(h.c.addPartitions('ongoing', o.producerId, 0, [tp('a', 1)]));
    h.clock.advance(6 * day);
    h.init('recent');
    h.flushTimers(); // the ongoing transaction times out (PrepareAbort: markers never written here)
    h.markers.length = 0;
    h.clock.advance(day + 3600_000);
    const tombstones = h.timerResults.flatMap((r) => r.records.filter((x) => x.value === null).map((x) => x.transactionalId));
    assert.deepEqual(tombstones.sort(), ['done', 'empty']);
    assert.equal(h.c.describe('empty').errorCode, E.NONE, 'visible until the tombstone is durable');
    h.flushTimers();
    assert.deepEqual(h.c.describe('empty').errorCode, E.TRANSACTIONAL_ID_NOT_FOUND);
    assert.deepEqual(h.c.transactionalIds().sort(), ['ongoing', 'recent']);
    assert.equal(h.ok(h.c.addPartitions('done', c.producerId, 0, [tp('a', 0)])), E.INVALID_PRODUCER_ID_MAPPING);
    h.c.stop();
  });

  test('a failed tombstone append keeps the id', () => {
    const h = new Harness({ config: { idExpirationMs: 1000 } });
    h.init('t');
    h.clock.advance(2000);
    const r = h.c.expireTransactionalIds()!;
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS, 'Dead is pending');
    h.fail(r, E.NOT_LEADER_OR_FOLLOWER);
    assert.equal(h.c.state('t'), 'Empty');
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).producerEpoch, 1);
  });
});

describe('reads', () => {
  test('DescribeTransactions: state, producer, timeout, start time, partitions; errors', () => {
    const h = new Harness();
    const p = h.init('t', 30_000);
    h.ok(h.c.addPartitions('t', p.producerId, 0, [tp('a', 2)]));
    assert.deepEqual(h.c.describe('t'), {
      errorCode: E.NONE,
      transactionalId: 't',
      transactionState: 'Ongoing',
      transactionTimeoutMs: 30_000,
      transactionStartTimeMs: h.clock.now(),
      producerId: p.producerId,
      producerEpoch: 0,
      topics: [{ topic: 'a', partitions: [2] }],
    });
    assert.equal(h.c.describe('x').errorCode, E.TRANSACTIONAL_ID_NOT_FOUND);
    assert.equal(h.c.describe('').errorCode, E.INVALID_REQUEST);
  });

  test('ListTransactions: state, producer id and duration filters; unknown state names echoed', () => {
    const h = new Harness();
    const a = h.init('a');
    const b = h.init('b');
    h.ok(h.c.addPartitions('b', b.producerId, 0, [tp('x', 0)]));
    h.clock.advance(10_000);
    const ids = (l: { transactionStates: { transactionalId: string }[] }) => l.transactionStates.map((t) => t.transactionalId).sort();
    assert.deepEqual(ids(h.c.list([], [])), ['a', 'b']);
    assert.deepEqual(h.c.list(['Ongoing'], []).transactionStates, [{ transactionalId: 'b', producerId: b.producerId, transactionState: 'Ongoing' }]);
    assert.deepEqual(h.c.list(['Ongoing', 'Bogus'], []).unknownStateFilters, ['Bogus']);
    assert.deepEqual(ids(h.c.list(['Bogus'], [])), []);
    assert.deepEqual(ids(h.c.list([], [a.producerId])), ['a']);
    assert.deepEqual(ids(h.c.list(['Ongoing'], [], 5_000)), ['b']);
    assert.deepEqual(ids(h.c.list(['Ongoing'], [], 10_000)), [], 'running for exactly the duration is not older');
  });

  test("verifyPartition: Kafka's verification codes", () => {
    const h = new Harness();
    const p = h.init('t');
    assert.equal(h.c.verifyPartition(null, p.producerId, 0, 'a', 0), E.INVALID_REQUEST);
    assert.equal(h.c.verifyPartition('nope', p.producerId, 0, 'a', 0), E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.c.verifyPartition('t', p.producerId + 1, 0, 'a', 0), E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(h.c.verifyPartition('t', p.producerId, 0, 'a', 0), E.TRANSACTION_ABORTABLE, 'not in the transaction');
    const add = h.c.addPartitions('t', p.producerId, 0, [tp('a', 0)]);
    assert.equal(h.c.verifyPartition('t', p.producerId, 0, 'a', 0), E.TRANSACTION_ABORTABLE, 'not before it is durable');
    h.ok(add);
    assert.equal(h.c.verifyPartition('t', p.producerId, 0, 'a', 0), E.NONE);
    assert.equal(h.c.verifyPartition('t', p.producerId, 0, 'a', 1), E.TRANSACTION_ABORTABLE);
    assert.equal(h.ok(h.c.initProducerId('t', 60_000)).errorCode, E.CONCURRENT_TRANSACTIONS); // fence
    assert.equal(h.c.verifyPartition('t', p.producerId, 0, 'a', 0), E.PRODUCER_FENCED, 'the zombie');
    assert.equal(h.c.verifyPartition('t', p.producerId, 1, 'a', 0), E.CONCURRENT_TRANSACTIONS, 'aborting');
    h.completeMarkers();
    assert.equal(h.c.verifyPartition('t', p.producerId, 1, 'a', 0), E.TRANSACTION_ABORTABLE);
  });
});
