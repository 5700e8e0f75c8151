import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeRecord,
  encodeGroupMetadataValue,
  encodeKey,
  encodeOffsetCommitValue,
  encodeRecord,
  type GroupMetadataValue,
  type OffsetCommitValue,
} from './records.ts';

const hex = (b: Buffer | null) => b?.toString('hex');

test('OffsetCommitKey v1 and OffsetCommitValue v3: byte vectors from the Kafka schema', () => {
  const r = {
    type: 'offset' as const,
    groupId: 'g',
    topic: 't',
    partition: 7,
    value: { offset: 5n, leaderEpoch: 2, metadata: 'm', commitTimestamp: 1000, expireTimestamp: -1 },
  };
  const { key, value } = encodeRecord(r);
  // int16 version 1 | string "g" | string "t" | int32 7
  assert.equal(hex(key), '0001' + '000167' + '000174' + '00000007');
  // int16 version 3 | int64 offset 5 | int32 leaderEpoch 2 | string "m" | int64 commitTimestamp 1000
  assert.equal(hex(value), '0003' + '0000000000000005' + '00000002' + '00016d' + '00000000000003e8');
  assert.deepEqual(decodeRecord(key, value), r);
});

test('OffsetCommitValue v1 carries the expire timestamp and is chosen when one is set', () => {
  const v: OffsetCommitValue = { offset: 1n, leaderEpoch: -1, metadata: '', commitTimestamp: 10, expireTimestamp: 20 };
  const b = encodeOffsetCommitValue(v);
  // int16 1 | int64 1 | string "" | int64 10 | int64 20
  assert.equal(hex(b), '0001' + '0000000000000001' + '0000' + '000000000000000a' + '0000000000000014');
  assert.deepEqual(decodeOffsetCommitValue(b), v);
});

test('OffsetCommitValue round-trips in every version (fields absent in a version take defaults)', () => {
  const v: OffsetCommitValue = { offset: 123456789012n, leaderEpoch: 9, metadata: 'meta', commitTimestamp: 1_700_000_000_000, expireTimestamp: 1_800_000_000_000 };
  for (let version = 0; version <= 4; version++) {
    const got = decodeOffsetCommitValue(encodeOffsetCommitValue(v, version));
    assert.deepEqual(got, {
      offset: v.offset,
      leaderEpoch: version >= 3 ? 9 : -1,
      metadata: 'meta',
      commitTimestamp: v.commitTimestamp,
      expireTimestamp: version === 1 ? v.expireTimestamp : -1,
    });
  }
  // v4 is flexible: compact string (length+1) and an empty tagged-field section.
  const v4 = encodeOffsetCommitValue({ offset: 0n, leaderEpoch: 0, metadata: 'a', commitTimestamp: 0, expireTimestamp: -1 }, 4);
  assert.equal(hex(v4), '0004' + '0000000000000000' + '00000000' + '0261' + '0000000000000000' + '00');
});

const group: GroupMetadataValue = {
  protocolType: 'consumer',
  generation: 3,
  protocol: 'range',
  leader: 'm1',
  currentStateTimestamp: 1_700_000_000_000,
  members: [
    {
      memberId: 'm1',
      groupInstanceId: 'i1',
      clientId: 'c',
      clientHost: '/h',
      rebalanceTimeout: 30000,
      sessionTimeout: 10000,
      subscription: Buffer.from([1, 2]),
      assignment: Buffer.from([3]),
    },
  ],
};

test('GroupMetadataKey v2 and GroupMetadataValue v3: byte vector from the Kafka schema', () => {
  const { key, value } = encodeRecord({ type: 'group', groupId: 'g', value: group });
  assert.equal(hex(key), '0002' + '000167');
  const expected =
    '0003' + // version 3
    '0008' + Buffer.from('consumer').toString('hex') + // protocolType
    '00000003' + // generation
    '0005' + Buffer.from('range').toString('hex') + // protocol
    '0002' + Buffer.from('m1').toString('hex') + // leader
    '0000018bcfe56800' + // currentStateTimestamp 1700000000000
    '00000001' + // one member
    '0002' + Buffer.from('m1').toString('hex') + // memberId
    '0002' + Buffer.from('i1').toString('hex') + // groupInstanceId (v3+)
    '0001' + Buffer.from('c').toString('hex') + // clientId
    '0002' + Buffer.from('/h').toString('hex') + // clientHost
    '00007530' + // rebalanceTimeout 30000
    '00002710' + // sessionTimeout 10000
    '00000002' + '0102' + // subscription
    '00000001' + '03'; // assignment
  assert.equal(hex(value), expected);
  assert.deepEqual(decodeRecord(key, value), { type: 'group', groupId: 'g', value: group });
});

test('GroupMetadataValue round-trips in every version', () => {
  for (let version = 0; version <= 4; version++) {
    const got = decodeGroupMetadataValue(encodeGroupMetadataValue(group, version));
    assert.deepEqual(got, {
      ...group,
      currentStateTimestamp: version >= 2 ? group.currentStateTimestamp : -1,
      members: group.members.map((m) => ({
        ...m,
        groupInstanceId: version >= 3 ? m.groupInstanceId : null,
        rebalanceTimeout: version >= 1 ? m.rebalanceTimeout : -1,
      })),
    });
  }
  const empty: GroupMetadataValue = { protocolType: '', generation: 1, protocol: null, leader: null, currentStateTimestamp: 5, members: [] };
  assert.deepEqual(decodeGroupMetadataValue(encodeGroupMetadataValue(empty)), empty);
  assert.equal(hex(encodeGroupMetadataValue(empty)), '0003' + '0000' + '00000001' + 'ffff' + 'ffff' + '0000000000000005' + '00000000');
});

test('tombstones, offset key v0, unknown record types and malformed bytes', () => {
  const t = encodeRecord({ type: 'group', groupId: 'g', value: null });
  assert.equal(t.value, null);
  assert.deepEqual(decodeRecord(t.key, null), { type: 'group', groupId: 'g', value: null });
  const key0 = Buffer.from('0000' + '000167' + '000174' + '00000001', 'hex');
  assert.deepEqual(decodeRecord(key0, null), { type: 'offset', groupId: 'g', topic: 't', partition: 1, value: null });
  assert.deepEqual(decodeRecord(Buffer.from('0003', 'hex'), null), { type: 'other', keyVersion: 3 });
  assert.throws(() => decodeRecord(Buffer.from('0002ff', 'hex'), null));
  assert.throws(() => decodeOffsetCommitValue(Buffer.from('0003', 'hex')));
  assert.equal(hex(encodeKey({ type: 'group', groupId: 'ab', value: null })), '0002' + '00026162');
});
