/**
 * The read side of transactions and the produce-side checks, with raw requests: the last stable
 * offset in Fetch and ListOffsets, read_committed fetches withholding open transactions and
 * listing aborted ones, transactional produce verification (KIP-890 part 1), and idempotent
 * sequence checks. Meant to pass against Apache Kafka 4.3.1 too (BOOTSTRAP_SERVERS=...).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { buildRecordBatch, decodeRecords } from '../../src/protocol/records.ts';
import { ATTR_TRANSACTIONAL } from '../../src/protocol/record-batch.ts';
import { batchIsControl } from '../../src/protocol/control-batch.ts';
import { createTopic, eventually, fetchPartition, listOffsets, produce, produceOk, startTarget, uniqueTopic, type RawClient, type Target } from './helpers.ts';
import { E as TE, addPartitions, endTxn, initPid, initTxn, txnId, type Producer } from './txn-helpers.ts';

const READ_COMMITTED = 1;
const LATEST = -1n;
const E = { ...TE, NONE: 0, OUT_OF_ORDER_SEQUENCE_NUMBER: 45, TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53 } as const;

function txnBatch(p: Producer, seq: number, values: string[], transactional = true): Buffer {
  return buildRecordBatch({
    baseTimestamp: Date.now(),
    producerId: Number(p.producerId),
    producerEpoch: p.producerEpoch,
    baseSequence: seq,
    attributes: transactional ? ATTR_TRANSACTIONAL : 0,
    records: values.map((v) => ({ key: null, value: Buffer.from(v) })),
  });
}

/** Produce v9 with a transactional id (the helpers' produce sends none). */
async function produceTxn(c: RawClient, id: string | null, topic: string, partition: number, records: Buffer) {
  const res = await c.request(0, 9, {
    transactionalId: id,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  return res.responses[0].partitionResponses[0];
}

/** The data records (control batches left out) of a fetch answer, as values. */
function dataValues(records: Buffer | null): string[] {
  if (!records || records.length === 0) return [];
  const out: string[] = [];
  for (let pos = 0; pos < records.length; ) {
    const size = 12 + records.readInt32BE(pos + 8);
    if (!batchIsControl(records, pos)) for (const r of decodeRecords(records.subarray(pos, pos + size))) out.push(r.value!.toString());
    pos += size;
  }
  return out;
}

/**
 * Fetches from `from` until the bound (HW, or LSO with read_committed), collecting data values
 * and aborted transactions. Kafka may answer a fetch with fewer batches than are readable.
 */
async function readAll(c: RawClient, topic: string, partition: number, from: number, isolationLevel: number) {
  const values: string[] = [];
  const aborted: { producerId: bigint; firstOffset: bigint }[] = [];
  let offset = from;
  for (let i = 0; i < 20; i++) {
    const f = await fetchPartition(c, topic, partition, offset, { isolationLevel });
    const bound = Number(isolationLevel === READ_COMMITTED ? f.lastStableOffset : f.highWatermark);
    values.push(...dataValues(f.records));
    aborted.push(...(f.abortedTransactions ?? []));
    const next = lastOffsetOf(f.records) + 1;
    if (next <= offset || next >= bound) return { values, aborted, last: f };
    offset = next;
  }
  throw new Error('readAll did not reach the end');
}

function lastOffsetOf(records: Buffer | null): number {
  let last = -1;
  for (let pos = 0; records && pos < records.length; pos += 12 + records.readInt32BE(pos + 8)) {
    last = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23);
  }
  return last;
}

describe('read_committed and producer checks', () => {
  let target: Target;
  let c: RawClient;

  before(async () => {
    target = await startTarget({ config: { 'transaction.state.log.num.partitions': '3' } });
    c = await target.connect();
  });
  after(async () => {
    await c?.close();
    await target?.close();
  });

  test('an open transaction holds the last stable offset; its abort is listed to read_committed fetches', async () => {
    const topic = uniqueTopic('rc');
    await createTopic(c, topic, 1);
    const id = txnId('rc');
    const p = await initTxn(c, id);
    await produceOk(c, topic, 0, buildRecordBatch({ records: [{ value: Buffer.from('before') }] }));
    assert.deepEqual((await addPartitions(c, id, p, [{ name: topic, partitions: [0] }])).flatMap((t) => t.resultsByPartition.map((r: { partitionErrorCode: number }) => r.partitionErrorCode)), [0]);
    const res = await produceTxn(c, id, topic, 0, txnBatch(p, 0, ['t1', 't2']));
    assert.equal(res.errorCode, E.NONE, res.errorMessage);
    assert.equal(Number(res.baseOffset), 1);

    const rc = await fetchPartition(c, topic, 0, 0, { isolationLevel: READ_COMMITTED });
    assert.equal(rc.highWatermark, 3n);
    assert.equal(rc.lastStableOffset, 1n);
    assert.deepEqual(dataValues(rc.records), ['before'], 'nothing past the last stable offset');
    assert.deepEqual(rc.abortedTransactions, []);
    const ru = await readAll(c, topic, 0, 0, 0);
    assert.deepEqual(ru.values, ['before', 't1', 't2']);
    assert.equal(ru.last.lastStableOffset, 1n);
    assert.equal(ru.last.abortedTransactions, null);
    const [rcLatest] = await listOffsets(c, topic, [{ partition: 0, timestamp: LATEST }], 7, READ_COMMITTED);
    const [ruLatest] = await listOffsets(c, topic, [{ partition: 0, timestamp: LATEST }], 7, 0);
    assert.equal(rcLatest.offset, 1n);
    assert.equal(ruLatest.offset, 3n);

    assert.equal((await endTxn(c, id, p, false)).errorCode, E.NONE);
    await eventually(async () => (await fetchPartition(c, topic, 0, 0, { isolationLevel: READ_COMMITTED })).lastStableOffset === 4n, 'the abort marker');
    const after = await readAll(c, topic, 0, 0, READ_COMMITTED);
    assert.equal(after.last.highWatermark, 4n);
    assert.deepEqual(after.aborted, [{ producerId: p.producerId, firstOffset: 1n }]);
    // The client drops t1 and t2 (aborted) and the marker; the data is still in the log.
    assert.deepEqual(after.values, ['before', 't1', 't2']);
    // A fetch from after the aborted transaction lists none.
    const later = await fetchPartition(c, topic, 0, 4, { isolationLevel: READ_COMMITTED });
    assert.deepEqual(later.abortedTransactions, []);
  });

  test('a committed transaction becomes visible with its marker, and lists no aborted transaction', async () => {
    const topic = uniqueTopic('rc-commit');
    await createTopic(c, topic, 2);
    const id = txnId('rc-commit');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0, 1] }]);
    assert.equal((await produceTxn(c, id, topic, 0, txnBatch(p, 0, ['a']))).errorCode, E.NONE);
    assert.equal((await produceTxn(c, id, topic, 1, txnBatch(p, 0, ['b']))).errorCode, E.NONE);
    assert.equal((await endTxn(c, id, p, true)).errorCode, E.NONE);
    for (const [partition, value] of [[0, 'a'], [1, 'b']] as const) {
      const f = await eventually(async () => {
        const got = await fetchPartition(c, topic, partition, 0, { isolationLevel: READ_COMMITTED });
        return got.lastStableOffset === 2n ? got : null;
      }, `the commit marker of partition ${partition}`);
      assert.deepEqual(dataValues(f.records), [value]);
      assert.deepEqual(f.abortedTransactions, []);
    }
  });

  test('transactional produce is verified against the coordinator', async () => {
    const topic = uniqueTopic('rc-verify');
    await createTopic(c, topic, 2);
    const id = txnId('rc-verify');
    const p = await initTxn(c, id);
    await addPartitions(c, id, p, [{ name: topic, partitions: [0] }]);
    // A partition that was not added to the transaction.
    const notAdded = await produceTxn(c, id, topic, 1, txnBatch(p, 0, ['x']));
    assert.equal(notAdded.errorCode, E.INVALID_TXN_STATE);
    // Transactional records without a transactional id.
    const noId = await produceTxn(c, null, topic, 0, txnBatch(p, 0, ['x']));
    assert.equal(noId.errorCode, E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    // A zombie: after a new InitProducerId bumps the epoch, the old epoch is refused.
    const next = await initTxn(c, id);
    assert.ok(next.producerEpoch > p.producerEpoch);
    const zombie = await produceTxn(c, id, topic, 0, txnBatch(p, 0, ['z']));
    assert.equal(zombie.errorCode, E.INVALID_PRODUCER_EPOCH);
    const f = await fetchPartition(c, topic, 0, 0);
    assert.deepEqual(dataValues(f.records), [], 'nothing was appended');
  });

  test('idempotent producer: duplicates get the original offset, gaps are out of order', async () => {
    const topic = uniqueTopic('idem');
    await createTopic(c, topic, 1);
    const r = await initPid(c, null);
    assert.equal(r.errorCode, E.NONE);
    const p: Producer = { producerId: r.producerId, producerEpoch: r.producerEpoch };
    const first = await produce(c, topic, 0, txnBatch(p, 0, ['a', 'b'], false));
    assert.equal(first.errorCode, E.NONE);
    assert.equal((await produce(c, topic, 0, txnBatch(p, 2, ['c'], false))).baseOffset, 2n);
    const dup = await produce(c, topic, 0, txnBatch(p, 0, ['a', 'b'], false));
    assert.equal(dup.errorCode, E.NONE);
    assert.equal(dup.baseOffset, 0n, 'the original offset');
    const gap = await produce(c, topic, 0, txnBatch(p, 5, ['f'], false));
    assert.equal(gap.errorCode, E.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const f = await fetchPartition(c, topic, 0, 0);
    assert.deepEqual(dataValues(f.records), ['a', 'b', 'c']);
  });
});
