import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, MemberState, type ConsumerGroupRecord } from './records.ts';
import { topicId } from './test-helpers.ts';

const T1 = topicId(1);
const T2 = topicId(2);

const samples: ConsumerGroupRecord[] = [
  { type: 'cg-metadata', groupId: 'g', value: { epoch: 7 } },
  { type: 'cg-partition-metadata', groupId: 'g', value: { topics: [{ topicId: T1, topicName: 'a', numPartitions: 3 }, { topicId: T2, topicName: 'b', numPartitions: 1 }] } },
  {
    type: 'cg-member', groupId: 'g', memberId: 'm1',
    value: { instanceId: 'i', rackId: null, clientId: 'c', clientHost: '/1.2.3.4', subscribedTopicNames: ['a', 'b'], subscribedTopicRegex: null, rebalanceTimeoutMs: 30000, serverAssignor: 'range' },
  },
  { type: 'cg-target-metadata', groupId: 'g', value: { assignmentEpoch: 7 } },
  { type: 'cg-target-member', groupId: 'g', memberId: 'm1', value: { assignment: { [T1]: [0, 2], [T2]: [0] } } },
  {
    type: 'cg-current-assignment', groupId: 'g', memberId: 'm1',
    value: { memberEpoch: 7, previousMemberEpoch: 6, state: MemberState.UNREVOKED_PARTITIONS, assigned: { [T1]: [0] }, pendingRevocation: { [T1]: [1] } },
  },
];

test('every record type round-trips, values and tombstones', () => {
  for (const r of samples) {
    const e = encodeRecord(r);
    assert.deepEqual(decodeRecord(e.key, e.value), r);
    const tomb = { ...r, value: null } as ConsumerGroupRecord;
    const et = encodeRecord(tomb);
    assert.equal(et.value, null);
    assert.deepEqual(decodeRecord(et.key, null), tomb);
  }
});

test('byte layout: non-flexible key with its version; flexible value version 0', () => {
  const e = encodeRecord(samples[0]!);
  assert.equal(e.key.toString('hex'), '00030001' + Buffer.from('g').toString('hex'));
  assert.equal(e.value!.toString('hex'), '0000' + '00000007' + '00');
  const m = encodeRecord({ type: 'cg-target-member', groupId: 'g', memberId: 'm', value: { assignment: { [T1]: [1] } } });
  assert.equal(m.key.toString('hex'), '0007' + '000167' + '00016d');
  // version 0, 1 topic (compact 2), uuid, 1 partition (compact 2), int32 1, topic tags, value tags
  assert.equal(m.value!.toString('hex'), '0000' + '02' + Buffer.from(T1, 'base64url').toString('hex') + '02' + '00000001' + '00' + '00');
});

test('other key versions are not ours; unknown value versions are rejected', () => {
  assert.equal(decodeRecord(Buffer.from('00020001' + '67', 'hex'), null), null);
  const e = encodeRecord(samples[0]!);
  const bad = Buffer.from(e.value!);
  bad.writeInt16BE(1, 0);
  assert.throws(() => decodeRecord(e.key, bad), /value version/);
});

test('tagged fields written by newer Kafka versions are skipped', () => {
  // ConsumerGroupMetadataValue with one tagged field (tag 0, 8 bytes), as Kafka 4.1 writes.
  const value = Buffer.from('0000' + '00000003' + '01' + '00' + '08' + '0102030405060708', 'hex');
  const key = encodeRecord(samples[0]!).key;
  assert.deepEqual(decodeRecord(key, value), { type: 'cg-metadata', groupId: 'g', value: { epoch: 3 } });
});
