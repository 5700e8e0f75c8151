import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../common/errors.ts';
import { deleteConsumerGroup, describeConsumerGroups, listConsumerGroups, subscribedTopics, validateOffsetCommit, validateOffsetFetch } from './admin.ts';
import { Harness } from './test-helpers.ts';

const E = ErrorCode;

test('ConsumerGroupDescribe: members, assignments, target assignments, states; GROUP_ID_NOT_FOUND', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  h.join('a', ['t'], { instanceId: 'i', rackId: 'r' });
  h.join('b', ['t']);
  const [d, missing] = describeConsumerGroups(h.coordinator, ['g', 'nope']);
  assert.equal(d!.errorCode, E.NONE);
  assert.equal(d!.groupState, 'Reconciling');
  assert.deepEqual([d!.groupEpoch, d!.assignmentEpoch, d!.assignorName], [2, 2, 'uniform']);
  const [a, b] = d!.members;
  assert.deepEqual(
    { id: a!.memberId, inst: a!.instanceId, rack: a!.rackId, epoch: a!.memberEpoch, host: a!.clientHost, subs: a!.subscribedTopicNames },
    { id: 'a', inst: 'i', rack: 'r', epoch: 1, host: '/127.0.0.1', subs: ['t'] },
  );
  assert.deepEqual(a!.assignment.topicPartitions, [{ topicId: h.id('t'), topicName: 't', partitions: [0, 1] }]);
  assert.deepEqual(a!.targetAssignment.topicPartitions, [{ topicId: h.id('t'), topicName: 't', partitions: [0] }]);
  assert.deepEqual(b!.assignment.topicPartitions, []);
  assert.deepEqual(b!.targetAssignment.topicPartitions, [{ topicId: h.id('t'), topicName: 't', partitions: [1] }]);
  assert.equal(missing!.errorCode, E.GROUP_ID_NOT_FOUND);
  assert.equal(missing!.errorMessage, 'Group nope not found.');
  assert.deepEqual(listConsumerGroups(h.coordinator), [{ groupId: 'g', protocolType: 'consumer', groupState: 'Reconciling', groupType: 'consumer' }]);
  h.hb({ memberId: 'a', memberEpoch: 1, instanceId: 'i', topicPartitions: h.owned({ t: [0] }) });
  h.hb({ memberId: 'b', memberEpoch: 2 });
  assert.equal(describeConsumerGroups(h.coordinator, ['g'])[0]!.groupState, 'Stable');
  h.hb({ memberId: 'a', memberEpoch: -1, instanceId: 'i' });
  assert.equal(h.coordinator.groupState('g'), 'Assigning');
  h.hb({ memberId: 'b', memberEpoch: -1 });
  assert.equal(describeConsumerGroups(h.coordinator, ['g'])[0]!.groupState, 'Empty');
});

test('offset commit and fetch checks: member epoch instead of generation', () => {
  const h = new Harness();
  h.addTopic('t', 2);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'a', 1, 9), null); // not a consumer group
  h.join('a', ['t']);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'a', 1, 9), E.NONE);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'a', 0, 9), E.STALE_MEMBER_EPOCH);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'a', 2, 9), E.STALE_MEMBER_EPOCH);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'zz', 1, 9), E.UNKNOWN_MEMBER_ID);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', '', -1, 9), E.UNKNOWN_MEMBER_ID); // non-empty group
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'a', 1, 8), E.UNSUPPORTED_VERSION);
  assert.equal(validateOffsetCommit(h.coordinator, 'g', 'a', 1, 3, true), E.NONE);
  assert.equal(validateOffsetFetch(h.coordinator, 'g', null, -1), E.NONE);
  assert.equal(validateOffsetFetch(h.coordinator, 'g', 'a', 1), E.NONE);
  assert.equal(validateOffsetFetch(h.coordinator, 'g', 'a', 0), E.STALE_MEMBER_EPOCH);
  assert.equal(validateOffsetFetch(h.coordinator, 'g', 'x', 1), E.UNKNOWN_MEMBER_ID);
  assert.deepEqual([...subscribedTopics(h.coordinator, 'g')], ['t']);
  h.hb({ memberId: 'a', memberEpoch: -1 });
  assert.equal(validateOffsetCommit(h.coordinator, 'g', '', -1, 9), E.NONE); // empty group: admin commits
});

test('DeleteGroups: NON_EMPTY_GROUP, tombstones, restored if the append fails', () => {
  const h = new Harness();
  h.addTopic('t', 1);
  assert.equal(deleteConsumerGroup(h.coordinator, 'g'), null);
  h.join('a', ['t']);
  assert.equal(h.run(deleteConsumerGroup(h.coordinator, 'g')!), E.NON_EMPTY_GROUP);
  h.hb({ memberId: 'a', memberEpoch: -1 });
  h.failAppends = E.NOT_LEADER_OR_FOLLOWER;
  assert.equal(h.run(deleteConsumerGroup(h.coordinator, 'g')!), E.NOT_LEADER_OR_FOLLOWER);
  assert.equal(h.coordinator.groupState('g'), 'Empty');
  h.failAppends = null;
  const r = deleteConsumerGroup(h.coordinator, 'g')!;
  assert.deepEqual(r.records.map((x) => [x.type, x.value]), [['cg-target-metadata', null], ['cg-partition-metadata', null], ['cg-metadata', null]]);
  assert.equal(h.run(r), E.NONE);
  assert.equal(h.coordinator.groupState('g'), 'Dead');
});
