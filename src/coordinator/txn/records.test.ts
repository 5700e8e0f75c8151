/**
 * `__transaction_state` records: Kafka's exact bytes (worked out by hand from
 * TransactionLogKey.json / TransactionLogValue.json) and round trips.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeKey, decodeRecord, decodeValue, encodeKey, encodeRecord, encodeValue, stateId, type TxnLogValue } from './records.ts';
import { TXN_STATES } from './types.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('key: version 0, then the transactional id as an int16-length string', () => {
  assert.deepEqual(encodeKey('txn'), hex('0000 0003 74786e'));
  assert.equal(decodeKey(hex('0000 0003 74786e')), 'txn');
  assert.equal(decodeKey(hex('0001 0003 74786e')), null, 'an unknown key version is skipped');
});

const ongoing: TxnLogValue = {
  producerId: 5,
  previousProducerId: -1,
  nextProducerId: -1,
  producerEpoch: 2,
  transactionTimeoutMs: 60000,
  state: 'Ongoing',
  partitions: [{ topic: 'a', partitionIds: [0, 1] }],
  lastUpdateTimestampMs: 1000,
  startTimestampMs: 900,
  clientTransactionVersion: 0,
};

test('value v1 (flexible): Kafka bytes, compact partitions, no tagged field at defaults', () => {
  const bytes = hex(`
    0001
    0000000000000005
    0002
    0000ea60
    01
    02  02 61  03 00000000 00000001  00
    00000000000003e8
    0000000000000384
    00`);
  assert.deepEqual(encodeValue(ongoing), bytes);
  assert.deepEqual(decodeValue(bytes), ongoing);
});

test('value v0: int16 strings and int32 array lengths; Empty writes null partitions', () => {
  const empty: TxnLogValue = { ...ongoing, state: 'Empty', partitions: [], startTimestampMs: -1 };
  const bytes = hex(`
    0000
    0000000000000005
    0002
    0000ea60
    00
    ffffffff
    00000000000003e8
    ffffffffffffffff`);
  assert.deepEqual(encodeValue(empty, 0), bytes);
  assert.deepEqual(decodeValue(bytes), empty);
  const v0ongoing = hex(`0000 0000000000000005 0002 0000ea60 01 00000001 0001 61 00000002 00000000 00000001 00000000000003e8 0000000000000384`);
  assert.deepEqual(encodeValue(ongoing, 0), v0ongoing);
  assert.deepEqual(decodeValue(v0ongoing), ongoing);
});

test('value v1 tagged fields: previous (0) and next (1) producer id, client transaction version (2)', () => {
  const v: TxnLogValue = { ...ongoing, state: 'CompleteCommit', partitions: [], previousProducerId: 7, nextProducerId: 8, clientTransactionVersion: 2 };
  const bytes = encodeValue(v);
  const tail = hex('03 00 08 0000000000000007 01 08 0000000000000008 02 02 0002');
  assert.deepEqual(bytes.subarray(bytes.length - tail.length), tail);
  assert.deepEqual(decodeValue(bytes), v);
  // An unknown tag is skipped.
  const unknownTag = Buffer.concat([encodeValue({ ...ongoing }).subarray(0, -1), hex('01 09 01 ff')]);
  assert.deepEqual(decodeValue(unknownTag), ongoing);
});

test('every state round-trips with its Kafka id; tombstones decode as null values', () => {
  assert.deepEqual(TXN_STATES.map(stateId), [0, 1, 2, 3, 4, 5, 6, 7]);
  for (const state of TXN_STATES) {
    const v: TxnLogValue = { ...ongoing, state, partitions: state === 'Empty' ? [] : ongoing.partitions };
    assert.deepEqual(decodeValue(encodeValue(v)), v);
  }
  const { key, value } = encodeRecord({ transactionalId: 'x', value: null });
  assert.equal(value, null);
  assert.deepEqual(decodeRecord(key, null), { transactionalId: 'x', value: null });
  assert.throws(() => decodeValue(hex('0002')), /version 2/);
});
