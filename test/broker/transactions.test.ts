/**
 * The transaction coordinator through the wire, with raw requests: FindCoordinator (key type
 * 1), InitProducerId with and without a transactional id (KIP-360 retries, fencing),
 * AddPartitionsToTxn v0-3, AddOffsetsToTxn, EndTxn, DescribeTransactions, ListTransactions and
 * their error codes. Meant to pass against Apache Kafka 4.3.1 too (BOOTSTRAP_SERVERS=...).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListTransactionsRequest } from '../../src/protocol/messages/list-transactions-request.generated.ts';
import { createTopic, eventually, nodeIdOf, startTarget, tributaryOnly, uniqueTopic, type Any, type RawClient, type Target } from './helpers.ts';
import { E, K, addOffsets, addPartitions, describeTxn, endTxn, errorsOf, initPid, initTxn, txnId, type Producer } from './txn-helpers.ts';

describe('transactions', () => {
  let target: Target;
  let c: RawClient;

  before(async () => {
    target = await startTarget({
      config: {
        'transaction.state.log.num.partitions': '5',
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
      },
    });
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('FindCoordinator key type 1: this broker', async () => {
    const nodeId = await nodeIdOf(c);
    const res = await c.request(K.FindCoordinator, 4, { key: '', keyType: 1, coordinatorKeys: [txnId('fc')] });
    assert.equal(res.coordinators[0].errorCode, E.NONE);
    assert.equal(res.coordinators[0].nodeId, nodeId);
    const v1 = await c.request(K.FindCoordinator, 1, { key: txnId('fc'), keyType: 1, coordinatorKeys: [] });
    assert.equal(v1.errorCode, E.NONE);
    assert.equal(v1.nodeId, nodeId);
  });

  test('InitProducerId without transactional id (idempotent producers), v0-5: a fresh producer id, epoch 0', async () => {
    const ids = new Set<bigint>();
    for (let v = 0; v <= 5; v++) {
      const res = await initPid(c, null, { version: v });
      assert.equal(res.errorCode, E.NONE, `v${v}`);
      assert.equal(res.producerEpoch, 0);
      assert.ok(res.producerId >= 0n);
      ids.add(res.producerId);
    }
    assert.equal(ids.size, 6, 'every call gets its own producer id');
  });

  test('InitProducerId with a transactional id: epoch 0, then bumped with the same producer id', async () => {
    const id = txnId('init');
    const p = await initTxn(c, id);
    assert.equal(p.producerEpoch, 0);
    const again = await initPid(c, id);
    assert.deepEqual([again.errorCode, again.producerId, again.producerEpoch], [E.NONE, p.producerId, 1]);
    const d = await describeTxn(c, id);
    assert.deepEqual([d.errorCode, d.transactionState, d.producerId, d.producerEpoch, d.transactionTimeoutMs, d.topics], [E.NONE, 'Empty', p.producerId, 1, 60_000, []]);
  });

  test('InitProducerId errors: INVALID_TRANSACTION_TIMEOUT, INVALID_REQUEST', async () => {
    const id = txnId('init-err');
    await initTxn(c, id);
    for (const timeoutMs of [0, -5, 900_001]) {
      const res = await initPid(c, id, { timeoutMs });
      assert.deepEqual([res.errorCode, res.producerId, res.producerEpoch], [E.INVALID_TRANSACTION_TIMEOUT, -1n, -1], `timeout ${timeoutMs}`);
    }
    assert.equal((await initPid(c, '')).errorCode, E.INVALID_REQUEST, 'an empty transactional id');
    assert.equal((await initPid(c, id, { producerId: 5n, producerEpoch: -1 })).errorCode, E.INVALID_REQUEST, 'a producer id without epoch');
    assert.equal((await initPid(c, id, { producerId: -1n, producerEpoch: 3 })).errorCode, E.INVALID_REQUEST, 'an epoch without producer id');
  });

  test('InitProducerId v3+ with producer id and epoch (KIP-360): bump, retry of the bump, fenced epochs by version', async () => {
    const id = txnId('kip360');
    const p = await initTxn(c, id);
    const bump = await initPid(c, id, { version: 4, producerId: p.producerId, producerEpoch: 0 });
    assert.deepEqual([bump.errorCode, bump.producerId, bump.producerEpoch], [E.NONE, p.producerId, 1]);
    const retry = await initPid(c, id, { version: 4, producerId: p.producerId, producerEpoch: 0 });
    assert.deepEqual([retry.errorCode, retry.producerId, retry.producerEpoch], [E.NONE, p.producerId, 1], 'the retry gets the same epoch');
    await initPid(c, id); // epoch 2 by another producer: epochs 0 and 1 are now stale
    const v3 = await initPid(c, id, { version: 3, producerId: p.producerId, producerEpoch: 0 });
    assert.equal(v3.errorCode, E.INVALID_PRODUCER_EPOCH);
    const v4 = await initPid(c, id, { version: 4, producerId: p.producerId, producerEpoch: 0 });
    assert.equal(v4.errorCode, E.PRODUCER_FENCED);
    const otherPid = await initPid(c, id, { version: 5, producerId: p.producerId + 1_000_000n, producerEpoch: 2 });
    assert.equal(otherPid.errorCode, E.PRODUCER_FENCED);
  });

  test('AddPartitionsToTxn v0-3: Ongoing with the partitions; errors by version', async () => {
    const topic = uniqueTopic('txn-add');
    await createTopic(c, topic, 3);
    const id = txnId('add');
    const p = await initTxn(c, id);
    assert.deepEqual(errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [0, 1] }], 0)), [`${topic}-0: 0`, `${topic}-1: 0`]);
    assert.deepEqual(errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [2] }], 3)), [`${topic}-2: 0`]);
    assert.deepEqual(errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [2] }], 2)), [`${topic}-2: 0`], 'already in the transaction');
    const d = await describeTxn(c, id);
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics.map((t: Any) => [t.topic, [...t.partitions].sort()]), [[topic, [0, 1, 2]]]);
    assert.ok(d.transactionStartTimeMs > 0n);
    const stale = { ...p, producerEpoch: p.producerEpoch + 1 };
    assert.deepEqual(errorsOf(await addPartitions(c, id, stale, [{ name: topic, partitions: [0] }], 1)), [`${topic}-0: ${E.INVALID_PRODUCER_EPOCH}`]);
    assert.deepEqual(errorsOf(await addPartitions(c, id, stale, [{ name: topic, partitions: [0] }], 2)), [`${topic}-0: ${E.PRODUCER_FENCED}`]);
    const otherPid = { ...p, producerId: p.producerId + 1_000_000n };
    assert.deepEqual(errorsOf(await addPartitions(c, id, otherPid, [{ name: topic, partitions: [0] }])), [`${topic}-0: ${E.INVALID_PRODUCER_ID_MAPPING}`]);
    assert.deepEqual(errorsOf(await addPartitions(c, txnId('unknown'), p, [{ name: topic, partitions: [0] }])), [`${topic}-0: ${E.INVALID_PRODUCER_ID_MAPPING}`]);
    await endTxn(c, id, p, false);
  });

  test('AddPartitionsToTxn: unknown topics/partitions and internal topics refuse the whole request', async () => {
    const topic = uniqueTopic('txn-add-bad');
    await createTopic(c, topic, 1);
    const id = txnId('add-bad');
    const p = await initTxn(c, id);
    const missing = uniqueTopic('txn-missing');
    assert.deepEqual(
      errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [0, 7] }, { name: missing, partitions: [0] }])),
      [`${missing}-0: ${E.UNKNOWN_TOPIC_OR_PARTITION}`, `${topic}-0: ${E.OPERATION_NOT_ATTEMPTED}`, `${topic}-7: ${E.UNKNOWN_TOPIC_OR_PARTITION}`].sort(),
    );
    assert.deepEqual(
      errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [0] }, { name: '__consumer_offsets', partitions: [0] }])),
      [`__consumer_offsets-0: ${E.TOPIC_AUTHORIZATION_FAILED}`, `${topic}-0: ${E.OPERATION_NOT_ATTEMPTED}`],
    );
    assert.equal((await describeTxn(c, id)).transactionState, 'Empty', 'nothing was added');
  });

  test("AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction; errors", async () => {
    const id = txnId('offsets');
    const p = await initTxn(c, id);
    assert.equal(await addOffsets(c, id, p, 'txn-group'), E.NONE);
    const d = await describeTxn(c, id);
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics.map((t: Any) => t.topic), ['__consumer_offsets']);
    assert.equal(d.topics[0].partitions.length, 1);
    assert.equal(await addOffsets(c, txnId('unknown'), p, 'g'), E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal(await addOffsets(c, id, { ...p, producerEpoch: 7 }, 'g', 1), E.INVALID_PRODUCER_EPOCH);
    assert.equal(await addOffsets(c, id, { ...p, producerEpoch: 7 }, 'g', 2), E.PRODUCER_FENCED);
    await endTxn(c, id, p, false);
  });

  test('EndTxn errors: no transaction (Empty) → INVALID_TXN_STATE; unknown id → INVALID_PRODUCER_ID_MAPPING; stale epoch by version', async () => {
    const id = txnId('end-err');
    const p = await initTxn(c, id);
    for (const committed of [true, false]) {
      assert.equal((await endTxn(c, id, p, committed)).errorCode, E.INVALID_TXN_STATE);
    }
    assert.equal((await endTxn(c, txnId('unknown'), p, true)).errorCode, E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal((await endTxn(c, id, { ...p, producerId: p.producerId + 1_000_000n }, true)).errorCode, E.INVALID_PRODUCER_ID_MAPPING);
    assert.equal((await endTxn(c, id, { ...p, producerEpoch: 3 }, true, 1)).errorCode, E.INVALID_PRODUCER_EPOCH);
    assert.equal((await endTxn(c, id, { ...p, producerEpoch: 3 }, true, 2)).errorCode, E.PRODUCER_FENCED);
  });

  test('EndTxn commit: NONE (v0-4 carry no producer fields); the other outcome is then INVALID_TXN_STATE', async () => {
    const topic = uniqueTopic('txn-commit');
    await createTopic(c, topic, 1);
    const id = txnId('commit');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    const res = await endTxn(c, id, p, true, 4);
    assert.deepEqual([res.errorCode, res.producerId, res.producerEpoch], [E.NONE, -1n, -1], 'producer fields are v5+');
    // CONCURRENT_TRANSACTIONS while the markers are written (the completion is pending), then INVALID_TXN_STATE.
    const other = (await endTxn(c, id, p, false)).errorCode;
    assert.ok(other === E.CONCURRENT_TRANSACTIONS || other === E.INVALID_TXN_STATE, String(other));
    assert.match((await describeTxn(c, id)).transactionState, /^(PrepareCommit|CompleteCommit)$/);
    await eventually(async () => (await endTxn(c, id, p, false)).errorCode === E.INVALID_TXN_STATE, 'INVALID_TXN_STATE');
  });

  test('EndTxn retried after completion → NONE; the producer starts a new transaction', async () => {
    const topic = uniqueTopic('txn-retry');
    await createTopic(c, topic, 1);
    const id = txnId('retry');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    assert.equal((await endTxn(c, id, p, true)).errorCode, E.NONE);
    await eventually(async () => (await describeTxn(c, id)).transactionState === 'CompleteCommit', 'CompleteCommit');
    assert.equal((await endTxn(c, id, p, true)).errorCode, E.NONE);
    assert.equal((await endTxn(c, id, p, false)).errorCode, E.INVALID_TXN_STATE);
    assert.deepEqual(errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [0] }])), [`${topic}-0: 0`]);
    assert.equal((await endTxn(c, id, p, false)).errorCode, E.NONE);
    await eventually(async () => (await describeTxn(c, id)).transactionState === 'CompleteAbort', 'CompleteAbort');
    assert.equal((await endTxn(c, id, p, false)).errorCode, E.NONE);
  });

  test('a new producer with the same transactional id fences the ongoing transaction (CONCURRENT_TRANSACTIONS, then an epoch bump)', async () => {
    const topic = uniqueTopic('txn-fence');
    await createTopic(c, topic, 1);
    const id = txnId('fence');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    const res = await initPid(c, id);
    assert.deepEqual([res.errorCode, res.producerId, res.producerEpoch], [E.CONCURRENT_TRANSACTIONS, -1n, -1]);
    const d = await describeTxn(c, id);
    assert.match(d.transactionState, /^(PrepareAbort|CompleteAbort)$/);
    assert.equal(d.producerEpoch, 1);
    // The zombie is fenced everywhere.
    assert.deepEqual(errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [0] }])), [`${topic}-0: ${E.PRODUCER_FENCED}`]);
    assert.equal(await addOffsets(c, id, p, 'g'), E.PRODUCER_FENCED);
    assert.equal((await endTxn(c, id, p, true)).errorCode, E.PRODUCER_FENCED);
  });

  test('after the fence, the retried InitProducerId gets the next epoch', async () => {
    const topic = uniqueTopic('txn-fence2');
    await createTopic(c, topic, 1);
    const id = txnId('fence2');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    const q = await initTxn(c, id);
    assert.deepEqual([q.producerId, q.producerEpoch], [p.producerId, 2]);
    assert.equal((await describeTxn(c, id)).transactionState, 'Empty');
  });

  test('a transaction older than its timeout is aborted with an epoch bump', async () => {
    const topic = uniqueTopic('txn-timeout');
    await createTopic(c, topic, 1);
    const id = txnId('timeout');
    const p = await initTxn(c, id, 1000);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    const d = await eventually(async () => {
      const x = await describeTxn(c, id);
      return x.transactionState !== 'Ongoing' ? x : null;
    }, 'the timeout abort', 30_000);
    assert.match(d.transactionState, /^(PrepareAbort|CompleteAbort)$/);
    assert.equal(d.producerEpoch, 1);
    assert.equal((await endTxn(c, id, p, true)).errorCode, E.PRODUCER_FENCED);
  });

  test('DescribeTransactions: unknown id → TRANSACTIONAL_ID_NOT_FOUND, several ids in order', async () => {
    const id = txnId('describe');
    const p = await initTxn(c, id, 45_000);
    const unknown = txnId('nope');
    const res = await c.request(K.DescribeTransactions, 0, { transactionalIds: [unknown, id] });
    assert.deepEqual(
      res.transactionStates.map((s: Any) => [s.transactionalId, s.errorCode]),
      [[unknown, E.TRANSACTIONAL_ID_NOT_FOUND], [id, E.NONE]],
    );
    const s = res.transactionStates[1];
    assert.deepEqual([s.transactionState, s.producerId, s.producerEpoch, s.transactionTimeoutMs, s.transactionStartTimeMs], ['Empty', p.producerId, 0, 45_000, -1n]);
  });

  test('ListTransactions v0-1: producer id, state and duration filters; unknown state names', async () => {
    const topic = uniqueTopic('txn-list');
    await createTopic(c, topic, 1);
    const id = txnId('list');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    const list = (version: number, body: Any) => c.request(K.ListTransactions, version, { ...ListTransactionsRequest.default(), ...body });
    const mine = await list(0, { producerIdFilters: [p.producerId] });
    assert.equal(mine.errorCode, E.NONE);
    assert.deepEqual(mine.transactionStates, [{ transactionalId: id, producerId: p.producerId, transactionState: 'Ongoing' }]);
    const ongoing = await list(0, { stateFilters: ['Ongoing', 'NoSuchState'], producerIdFilters: [p.producerId] });
    assert.deepEqual(ongoing.unknownStateFilters, ['NoSuchState']);
    assert.equal(ongoing.transactionStates.length, 1);
    assert.deepEqual((await list(0, { stateFilters: ['Empty'], producerIdFilters: [p.producerId] })).transactionStates, []);
    assert.deepEqual((await list(1, { producerIdFilters: [p.producerId], durationFilter: 3_600_000n })).transactionStates, [], 'not running for an hour');
    assert.equal((await list(1, { producerIdFilters: [p.producerId], durationFilter: 0n })).transactionStates.length, 1);
    const all = await list(1, {});
    assert.ok(all.transactionStates.some((s: Any) => s.transactionalId === id));
    await endTxn(c, id, p, false);
  });

  test('restart: transactions are replayed and producer ids are never handed out twice', tributaryOnly, async () => {
    const topic = uniqueTopic('txn-restart');
    await createTopic(c, topic, 2);
    const id = txnId('restart');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [1] }]);
    const before = await describeTxn(c, id);
    const idempotent = (await initPid(c, null)).producerId as bigint;
    await c.close();
    await target.restart();
    c = await target.connect();
    const after = await describeTxn(c, id);
    assert.deepEqual(after, before);
    const next = (await initPid(c, null)).producerId as bigint;
    assert.ok(next > idempotent && next !== p.producerId, `${next} after ${idempotent}`);
    assert.deepEqual(errorsOf(await addPartitions(c, id, p, [{ name: topic, partitions: [0] }])), [`${topic}-0: 0`], 'the producer carries on');
    await endTxn(c, id, p, false);
  });
});
