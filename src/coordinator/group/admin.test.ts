import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { Harness, subscription } from './test-helpers.ts';

const E = ErrorCode;

test('DescribeGroups: unknown → Dead without error; Stable shows protocol, metadata and assignments', () => {
  const h = new Harness();
  const s = h.stableGroup('g', 2, ['t']);
  const [unknown, g, empty] = h.coordinator.describeGroups(['nope', 'g', '']) as [any, any, any];
  assert.deepEqual([empty.errorCode, empty.groupState], [E.NONE, 'Dead']); // '' is accepted, as in Kafka
  assert.deepEqual(
    { errorCode: unknown.errorCode, groupState: unknown.groupState, protocolType: unknown.protocolType, protocolData: unknown.protocolData, members: unknown.members },
    { errorCode: E.NONE, groupState: 'Dead', protocolType: '', protocolData: '', members: [] },
  );
  assert.equal(g.groupState, 'Stable');
  assert.equal(g.protocolType, 'consumer');
  assert.equal(g.protocolData, 'range');
  assert.deepEqual(g.members.map((m: any) => [m.memberId, m.clientId, m.clientHost, m.memberAssignment.toString()]), [
    [s.ids[0], 'c0', '/127.0.0.1', `assignment-${s.ids[0]}`],
    [s.ids[1], 'c1', '/127.0.0.1', `assignment-${s.ids[1]}`],
  ]);
  assert.deepEqual(g.members[0].memberMetadata, subscription(['t']));
  // While rebalancing: no protocol, no metadata, no assignment.
  h.join('g', s.leader);
  const r = h.coordinator.describeGroups(['g'])[0]!;
  assert.equal(r.groupState, 'PreparingRebalance');
  assert.equal(r.protocolData, '');
  assert.equal(r.members[0]!.memberAssignment.length, 0);
  assert.equal(r.members[0]!.memberMetadata.length, 0);
});

test('ListGroups with state and type filters (case-insensitive)', () => {
  const h = new Harness();
  h.stableGroup('stable', 1);
  h.join('empty', '', { version: 9 }); // MEMBER_ID_REQUIRED: the group exists, Empty
  h.join('preparing', '', { version: 3 });
  const ids = (states: string[] = [], types: string[] = []) => h.coordinator.listGroups(states, types).map((g) => g.groupId).sort();
  assert.deepEqual(ids(), ['empty', 'preparing', 'stable']);
  assert.deepEqual(ids(['Stable']), ['stable']);
  assert.deepEqual(ids(['empty', 'PREPARINGREBALANCE']), ['empty', 'preparing']);
  assert.deepEqual(ids([], ['Classic']), ['empty', 'preparing', 'stable']);
  assert.deepEqual(ids([], ['consumer']), []);
  const listed = h.coordinator.listGroups().find((g) => g.groupId === 'stable')!;
  assert.deepEqual(listed, { groupId: 'stable', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' });
});

test('DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP; Empty groups go with their offsets', () => {
  const h = new Harness();
  h.stableGroup('busy', 1);
  h.run(h.coordinator.offsetCommit(h.ctx(8), {
    groupId: 'idle', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1n,
    topics: [{ name: 't', partitions: [0, 1].map((p) => ({ partitionIndex: p, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })) }],
  }));
  const before = h.log.length;
  const res = h.run(h.coordinator.deleteGroups(['nope', 'busy', 'idle', 'idle', '']));
  assert.deepEqual(res.map((r) => [r.groupId, r.errorCode]), [
    ['nope', E.GROUP_ID_NOT_FOUND],
    ['busy', E.NON_EMPTY_GROUP],
    ['idle', E.NONE],
    ['idle', E.GROUP_ID_NOT_FOUND],
    ['', E.GROUP_ID_NOT_FOUND],
  ]);
  assert.deepEqual(h.log.slice(before), [
    { type: 'offset', groupId: 'idle', topic: 't', partition: 0, value: null },
    { type: 'offset', groupId: 'idle', topic: 't', partition: 1, value: null },
    { type: 'group', groupId: 'idle', value: null },
  ]);
  assert.equal(h.coordinator.groupState('idle'), null);
  assert.deepEqual(h.coordinator.fetchOffsets('idle', null), []);
});

test('a deleted group is Dead until its tombstones are durable, and Empty again if they fail', () => {
  const h = new Harness();
  h.join('g', '', { version: 9 });
  const pending = h.coordinator.deleteGroups(['g']);
  assert.equal(h.coordinator.groupState('g'), 'Dead');
  assert.equal(h.join('g', '', { version: 3 }).response!.errorCode, E.COORDINATOR_NOT_AVAILABLE);
  assert.equal(h.heartbeat('g', 'm', 0), E.COORDINATOR_NOT_AVAILABLE);
  assert.deepEqual(pending.complete(E.NOT_LEADER_OR_FOLLOWER), [{ groupId: 'g', errorCode: E.NOT_COORDINATOR }]);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
});
