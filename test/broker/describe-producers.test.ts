/**
 * DescribeProducers (key 61): partitions answer with their error or with their active
 * producers: none for plain producers; idempotent and transactional ones with their epoch,
 * last sequence, last timestamp and open transaction. The errors are Kafka's. Checked against Apache Kafka 4.3.1 (BOOTSTRAP_SERVERS=127.0.0.1:PORT).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { batch, createTopic, E, produceOk, startTarget, tributaryOnly, uniqueTopic, type Any, type RawClient, type Target } from './helpers.ts';
import { offlinePartition } from './offline-partition.ts';
import { addPartitions, endTxn, initPid, initTxn, txnId } from './txn-helpers.ts';
import { buildRecordBatch } from '../../src/protocol/records.ts';
import { ATTR_TRANSACTIONAL } from '../../src/protocol/record-batch.ts';

const DescribeProducers = 61;
const KAFKA_STORAGE_ERROR = 56;

async function describeProducers(c: RawClient, topics: { name: string; partitionIndexes: number[] }[]): Promise<Any> {
  return c.request(DescribeProducers, 0, { topics });
}

const ok = (partitionIndex: number) => ({ partitionIndex, errorCode: E.NONE, errorMessage: null, activeProducers: [] });

describe('DescribeProducers', () => {
  let target: Target;
  let c: RawClient;

  before(async () => {
    target = await startTarget();
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('partitions written by plain producers, and empty ones: no error, no active producers', async () => {
    const topic = uniqueTopic('dp');
    await createTopic(c, topic, 2);
    await produceOk(c, topic, 0, batch(['a', 'b']));
    const res = await describeProducers(c, [{ name: topic, partitionIndexes: [0, 1] }]);
    assert.deepEqual(res.topics, [{ name: topic, partitions: [ok(0), ok(1)] }]);
  });

  test('idempotent and transactional producers are listed with their state', async () => {
    const topic = uniqueTopic('dp-idem');
    await createTopic(c, topic, 1);
    const init = await initPid(c, null);
    const idem = { producerId: init.producerId as bigint, producerEpoch: init.producerEpoch as number };
    const ts = Date.now();
    const rec = (p: typeof idem, seq: number, n: number, attributes = 0) =>
      buildRecordBatch({ baseTimestamp: ts, producerId: Number(p.producerId), producerEpoch: p.producerEpoch, baseSequence: seq, attributes, records: Array.from({ length: n }, () => ({ value: Buffer.from('v') })) });
    await produceOk(c, topic, 0, rec(idem, 0, 3));
    await produceOk(c, topic, 0, rec(idem, 3, 2));
    const id = txnId('dp');
    const txn = await initTxn(c, id);
    await addPartitions(c, id, txn, [{ name: topic, partitions: [0] }]);
    const res = await c.request(0, 9, { transactionalId: id, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: rec(txn, 0, 1, ATTR_TRANSACTIONAL) }] }] });
    assert.equal(res.responses[0].partitionResponses[0].errorCode, E.NONE);
    const described = await describeProducers(c, [{ name: topic, partitionIndexes: [0] }]);
    const producers = [...described.topics[0].partitions[0].activeProducers].sort((a: Any, b: Any) => Number(a.currentTxnStartOffset - b.currentTxnStartOffset));
    assert.deepEqual(producers, [
      { producerId: idem.producerId, producerEpoch: idem.producerEpoch, lastSequence: 4, lastTimestamp: BigInt(ts), coordinatorEpoch: -1, currentTxnStartOffset: -1n },
      { producerId: txn.producerId, producerEpoch: txn.producerEpoch, lastSequence: 0, lastTimestamp: BigInt(ts), coordinatorEpoch: -1, currentTxnStartOffset: 5n },
    ]);
    await endTxn(c, id, txn, false);
  });

  test('unknown topic → UNKNOWN_TOPIC_OR_PARTITION with its message; unknown partition → the same code, no message', async () => {
    const topic = uniqueTopic('dp-part');
    await createTopic(c, topic, 1);
    const missing = uniqueTopic('dp-missing');
    const res = await describeProducers(c, [
      { name: missing, partitionIndexes: [0, 1] },
      { name: topic, partitionIndexes: [0, 5, -1] },
    ]);
    const unknownTopic = (p: number) => ({
      partitionIndex: p,
      errorCode: E.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: 'This server does not host this topic-partition.',
      activeProducers: [],
    });
    const unknownPartition = (p: number) => ({ partitionIndex: p, errorCode: E.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, activeProducers: [] });
    assert.deepEqual(res.topics, [
      { name: missing, partitions: [unknownTopic(0), unknownTopic(1)] },
      { name: topic, partitions: [ok(0), unknownPartition(5), unknownPartition(-1)] },
    ]);
  });

  test('an illegal topic name → INVALID_TOPIC_EXCEPTION with the reason', async () => {
    const res = await describeProducers(c, [
      { name: 'bad name!', partitionIndexes: [0] },
      { name: '', partitionIndexes: [0] },
      { name: '..', partitionIndexes: [0] },
      { name: 'x'.repeat(250), partitionIndexes: [0] },
    ]);
    assert.deepEqual(res.topics.map((t: Any) => t.partitions.map((p: Any) => [p.errorCode, p.errorMessage])), [
      [[E.INVALID_TOPIC_EXCEPTION, "Topic name is invalid: 'bad name!' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"]],
      [[E.INVALID_TOPIC_EXCEPTION, 'Topic name is invalid: the empty string is not allowed']],
      [[E.INVALID_TOPIC_EXCEPTION, "Topic name is invalid: '..' is not allowed"]],
      [[E.INVALID_TOPIC_EXCEPTION, `Topic name is invalid: the length of '${'x'.repeat(250)}' is longer than the max allowed length 249`]],
    ]);
  });

  test('no topics → no topics', async () => {
    assert.deepEqual((await describeProducers(c, [])).topics, []);
  });

  test('an offline log → KAFKA_STORAGE_ERROR without message; the other partitions answer', tributaryOnly, async () => {
    const topic = uniqueTopic('dp-offline');
    c = await offlinePartition(target, c, topic);
    const res = await describeProducers(c, [{ name: topic, partitionIndexes: [0, 1] }]);
    assert.deepEqual(res.topics[0].partitions, [
      { partitionIndex: 0, errorCode: KAFKA_STORAGE_ERROR, errorMessage: null, activeProducers: [] },
      ok(1),
    ]);
  });
});
